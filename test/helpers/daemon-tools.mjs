// What the private Dovecot and Postfix harnesses share: finding the daemon binary, the folder
// permissions their unprivileged processes need, and watching pids.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Absolute path of an executable daemon binary (dovecot, postfix) on PATH or in the sbin
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

/**
 * Every ancestor of `dir` gets o+x: the daemons' unprivileged processes (dovenull, dovecot,
 * postfix) reach files below it, and a temp root may be 0700.
 */
export function makeParentsTraversable(dir) {
  let cur = path.dirname(path.resolve(dir));
  for (;;) {
    const st = fs.statSync(cur);
    if ((st.mode & 0o001) === 0) fs.chmodSync(cur, (st.mode & 0o7777) | 0o001);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
}

/** The numeric id of `name` in a passwd/group-style file (/etc/passwd, /etc/group). */
export function lookupId(file, name, hint) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2]) return Number(f[2]);
  }
  throw new Error(`${name} not found in ${file}: ${hint}`);
}

/** True while `pid` runs (a zombie counts as gone). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    return false;
  }
  return true;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Re-read at least this often while waiting: a change fs.watch did not report is seen then. */
const RECHECK_MS = 250;

/**
 * Calls `read()` again each time something in `folder` changes (fs.watch), until `ready(value)`
 * holds or `timeoutMs` passed; resolves with the last value read either way, so the caller's
 * assertion shows what was there. Changes made while `read()` runs are not waited for (a read may
 * touch the folder itself, e.g. SQLite's -wal file): they are seen at the next re-read.
 * @template T
 * @param {string} folder
 * @param {() => T | Promise<T>} read
 * @param {(value: T) => boolean} ready
 * @param {number} timeoutMs
 * @returns {Promise<T>}
 */
export async function whenChanged(folder, read, ready, timeoutMs) {
  /** @type {(() => void) | undefined} */
  let wake;
  const watcher = fs.watch(folder, () => wake?.());
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (ready(value) || Date.now() >= deadline) return value;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(RECHECK_MS, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(timer);
          resolve(undefined);
        };
      });
      wake = undefined;
    }
  } finally {
    watcher.close();
  }
}

/**
 * The text of the log `file` once `re` matches it (or at the deadline), woken by its changes.
 * @param {string} file
 * @param {RegExp} re
 * @param {number} timeoutMs
 * @returns {Promise<string>}
 */
export function waitForFileText(file, re, timeoutMs) {
  const read = () => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return whenChanged(path.dirname(file), read, (text) => re.test(text), timeoutMs);
}

/** @type {Set<{ emergencyStop(): void }>} */
const live = new Set();
let exitHookInstalled = false;

/**
 * Stop this daemon instance if the process exits (or gets Ctrl-C / SIGTERM / SIGHUP where nobody
 * else handles the signal) while it still runs: the daemons detach, so they would outlive us.
 * Call forgetOnExit(handle) once it was stopped.
 * @param {{ emergencyStop(): void }} handle
 */
export function stopOnExit(handle) {
  live.add(handle);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const inst of [...live]) inst.emergencyStop();
  });
  // Only where nobody else handles the signal, so the default behaviour (the process dies) is
  // kept: clean up, then re-raise.
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    if (process.listenerCount(sig) > 0) continue;
    process.once(sig, () => {
      for (const inst of [...live]) inst.emergencyStop();
      process.kill(process.pid, sig);
    });
  }
}

/** @param {{ emergencyStop(): void }} handle */
export function forgetOnExit(handle) {
  live.delete(handle);
}
