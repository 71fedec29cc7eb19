import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { readFileOrConfigError, readMasterPassword, secretKeyPath } from '../config/runtime-config.js';
import { configFileError, errnoText } from '../core/config-file-error.js';
import type { Secret } from '../core/secret.js';
import { readKeyFile } from '../crypto/key-file.js';
import { redactedUrl } from '../store/index.js';
import { describeCertificate, loadTlsFiles } from './tls-files.js';

export interface CheckLine {
  status: 'ok' | 'warn';
  text: string;
}

/** The nearest folder of `path` that exists (the one a recursive mkdir would write into). */
function nearestFolder(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** store.path: the database and its folder writable (SQLite's WAL adds files beside it); never created here. */
function storeLine(path: string): CheckLine {
  if (existsSync(path)) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw configFileError('store.path', path, `not readable and writable: ${errnoText(err)}`, err);
    }
    if (!writable(dirname(path))) throw configFileError('store.path', path, `its folder ${dirname(path)} is not writable (SQLite writes -wal and -shm files there)`);
    return { status: 'ok', text: `store.path ${path}: readable and writable` };
  }
  const folder = nearestFolder(path);
  if (!writable(folder)) throw configFileError('store.path', path, `not there, and ${folder} is not writable to create it`);
  return { status: 'ok', text: `store.path ${path}: not there yet, serve creates it` };
}

function secretKeyLine(path: string): CheckLine {
  if (!existsSync(path)) {
    if (!writable(nearestFolder(path))) throw configFileError('store.secret_key_file', path, `not there, and ${nearestFolder(path)} is not writable to create it`);
    return { status: 'ok', text: `store.secret_key_file ${path}: not there yet, serve creates it (mode 0600)` };
  }
  readKeyFile(path);
  return { status: 'ok', text: `store.secret_key_file ${path}: a 32-byte key, mode 0600` };
}

function caLine(path: string): CheckLine {
  const pem = readFileOrConfigError('backend.ca', path);
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM block');
    new X509Certificate(pem);
  } catch (err) {
    throw configFileError('backend.ca', path, 'not a PEM certificate', err);
  }
  return { status: 'ok', text: `backend.ca ${path}: PEM certificates` };
}

/**
 * The files the config names, as `twostep check` reports them: TLS certificate and key, master
 * password, backend CA, store key and database. Reads only: nothing is created (run as root, a
 * created file would belong to root). The first problem throws one line naming key and path.
 */
export function checkFiles(config: Config): { lines: CheckLine[]; master: { user: string; password: Secret } } {
  const tls = loadTlsFiles(config);
  const cert = describeCertificate(tls.certificate);
  const lines: CheckLine[] = [
    { status: cert.expired ? 'warn' : 'ok', text: `tls.cert ${config.tls.cert}: ${cert.text}` },
    { status: 'ok', text: `tls.key ${config.tls.key}: the certificate's key` },
  ];
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  const file = config.backend.master_password_file;
  if (file !== undefined) {
    // root:twostep 0640 is fine (the service reads it through its group); others must not.
    const loose = (statSync(file).mode & 0o007) !== 0;
    lines.push({ status: loose ? 'warn' : 'ok', text: `backend.master_password_file ${file}: ${loose ? 'readable by others: chmod o-rwx it' : 'read'}` });
  }
  if (config.backend.ca) lines.push(caLine(config.backend.ca));
  lines.push(secretKeyLine(secretKeyPath(config)));
  lines.push(config.store.url !== undefined ? { status: 'ok', text: `store.url ${redactedUrl(config.store.url)}: PostgreSQL, opened by serve` } : storeLine(config.store.path));
  return { lines, master };
}
