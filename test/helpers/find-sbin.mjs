import fs from 'node:fs';
import path from 'node:path';

/**
 * Absolute path of an executable daemon binary (dovecot, postfix, nginx) on PATH or in the sbin
 * folders a non-root PATH often lacks; null when not installed.
 */
export function findSbinBinary(name) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}
