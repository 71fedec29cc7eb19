import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoText } from '../core/config-file-error.js';
import { TwostepError } from '../core/errors.js';

export const MASTER_KEY_BYTES = 32;

/**
 * The 32-byte master key, stored base64 in a file readable by its owner only.
 * Absent: create it (and its directory, mode 0700) with a fresh random key, mode 0600.
 * Present: refuse it when group/other may read or write it, or when it is not exactly 32 bytes.
 */
export function loadOrCreateKeyFile(path: string): Buffer {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(MASTER_KEY_BYTES).toString('base64') + '\n');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new TwostepError('CONFIG_INVALID', `store.secret_key_file ${path}: cannot create: ${errnoText(err)}`, { cause: err });
    }
  }
  return readKeyFile(path);
}

/** The key file as it is (never created): for checks that must not write. */
export function readKeyFile(path: string): Buffer {
  let text: string;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new TwostepError('CONFIG_INVALID', `store.secret_key_file ${path}: cannot open: ${errnoText(cause)}`, { cause });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TwostepError('CONFIG_INVALID', `store.secret_key_file ${path}: not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new TwostepError(
        'CONFIG_INVALID',
        `store.secret_key_file ${path}: accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600`,
      );
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== MASTER_KEY_BYTES) {
    throw new TwostepError(
      'CONFIG_INVALID',
      `store.secret_key_file ${path}: must hold exactly ${MASTER_KEY_BYTES} bytes, base64-encoded`,
    );
  }
  return key;
}
