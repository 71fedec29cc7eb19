import { chmodSync, closeSync, fchmodSync, fstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { TwostepError } from '../../core/errors.js';

/** The audit trail and the code hashes are for twostep's eyes only, whatever the umask. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;
/** What SQLite keeps beside the database in WAL mode (created with the database file's mode). */
const SIDECARS = ['-wal', '-shm'];

/**
 * Before SQLite opens `path`: the folders twostep creates for it are 0700 (a folder that was
 * there already is left as its owner made it), and the database file exists with mode 0600 (an
 * existing file with a looser mode is fixed). SQLite gives its -wal and -shm files the mode of
 * the database file.
 */
export function prepareStoreFiles(path: string): void {
  const folder = resolve(dirname(path));
  try {
    const first = mkdirSync(folder, { recursive: true, mode: FOLDER_MODE });
    // mkdir's mode is cut by the umask: set it on each folder made here, from the first one down.
    if (first !== undefined) {
      let dir = resolve(first);
      chmodSync(dir, FOLDER_MODE);
      for (const part of relative(dir, folder).split(sep).filter(Boolean)) {
        dir = resolve(dir, part);
        chmodSync(dir, FOLDER_MODE);
      }
    }
  } catch (cause) {
    throw new TwostepError('STORE_FAILED', `store.path: cannot create the folder ${folder}`, { cause });
  }
  let fd: number;
  try {
    fd = openSync(path, 'a', FILE_MODE);
  } catch (cause) {
    throw new TwostepError('STORE_FAILED', `store.path: cannot open ${path}`, { cause });
  }
  try {
    if ((fstatSync(fd).mode & 0o777) !== FILE_MODE) fchmodSync(fd, FILE_MODE);
  } catch (cause) {
    throw new TwostepError('STORE_FAILED', `store.path: cannot make ${path} private to its owner (chmod 600 it)`, { cause });
  } finally {
    closeSync(fd);
  }
}

/** Once open in WAL mode: -wal and -shm left from an earlier, looser setup get mode 0600 too. */
export function fixSidecarModes(path: string): void {
  for (const suffix of SIDECARS) {
    const file = `${path}${suffix}`;
    try {
      if ((statSync(file).mode & 0o777) !== FILE_MODE) chmodSync(file, FILE_MODE);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new TwostepError('STORE_FAILED', `store.path: cannot make ${file} private to its owner (chmod 600 it)`, { cause });
    }
  }
}
