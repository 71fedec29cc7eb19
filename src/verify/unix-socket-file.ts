import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { TwostepError } from '../core/errors.js';

/** A group name (from /etc/group) or a number, as [dovecot] verify_socket_group gives it. */
export function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch (err) {
    throw new TwostepError('CONFIG_INVALID', `dovecot.verify_socket_group: cannot read /etc/group`, { cause: err });
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === group && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  throw new TwostepError('CONFIG_INVALID', `dovecot.verify_socket_group: no group "${group}" in /etc/group`);
}

/**
 * Binds `server` to a unix socket at `path` with `mode` and (when given) group `gid`. Its folder
 * is created when missing. A socket file left by a twostep that died is replaced; one that a
 * live process still answers on, or a file that is not a socket, is an error.
 * Returns the socket file's inode, so close() removes only its own file.
 */
export async function listenUnixSocket(server: net.Server, path: string, mode: number, gid?: number): Promise<number> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  try {
    await listen(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw socketError(path, err);
    await removeStaleSocket(path);
    await listen(server, path).catch((e: unknown) => {
      throw socketError(path, e);
    });
  }
  try {
    if (gid !== undefined) chownSync(path, -1, gid);
    chmodSync(path, mode);
  } catch (err) {
    server.close();
    throw new TwostepError(
      'CONFIG_INVALID',
      `dovecot.verify_socket: cannot set group/mode of ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): run twostep as root or as a member of verify_socket_group`,
      { cause: err },
    );
  }
  return lstatSync(path).ino;
}

/**
 * A socket file at `path` left by a twostep that died is removed; one that a live process still
 * answers on, or a file that is not a socket, is an error. No file: nothing to do. (The
 * supervisor of [server] workers runs this before its workers listen there through it.)
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // no file
  }
  if (!isSocket) throw new TwostepError('CONFIG_INVALID', `dovecot.verify_socket: ${path} exists and is not a socket`);
  if (await answers(path)) throw new TwostepError('CONFIG_INVALID', `dovecot.verify_socket: ${path} is in use by another process`);
  unlinkSync(path);
}

/** Removes the socket file if it is still the one we created (a newer instance may own the path). */
export function removeUnixSocket(path: string, ino: number): void {
  try {
    const st = lstatSync(path);
    if (st.isSocket() && st.ino === ino) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** True when something accepts connections on the socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function socketError(path: string, err: unknown): TwostepError {
  return new TwostepError('CONFIG_INVALID', `dovecot.verify_socket: cannot listen on ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
    cause: err,
  });
}
