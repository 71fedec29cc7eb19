import { execFile } from 'node:child_process';
import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';

/** Ends a user's Dovecot sessions after a revoke ([dovecot] kick_command). */
export interface SessionKicker {
  /** Starts the command for `user` (never waits, never throws); drain() awaits it. */
  kick(user: string): void;
  /** Waits for every command started so far; returns one line per failure (for the CLI to show). */
  drain(): Promise<string[]>;
}

/**
 * Runs kick_command (argv, no shell; "{user}" replaced by the user name), default `doveadm kick
 * {user}`: Dovecot closes the user's IMAP/POP3/ManageSieve sessions, so a revoked application
 * code or two-step turned off ends sessions that Dovecot authenticated through the Lua passdb
 * as well (the proxy ends its own through the revocation watcher). All sessions of the user
 * end, also those of codes still valid: Dovecot does not know which code opened which, and
 * those apps sign in again at once. Each run is bounded by limits.kickCommandMs.
 */
export function createSessionKicker(argv: readonly string[], logger: Logger): SessionKicker {
  const pending = new Set<Promise<string | null>>();
  const failures: string[] = [];
  const run = (user: string): Promise<string | null> =>
    new Promise((resolve) => {
      // An argument that starts with '-' would be read as an option by doveadm.
      if (user === '' || user.startsWith('-')) {
        resolve(`kick_command not run for user name "${user.slice(0, 64)}"`);
        return;
      }
      const [cmd, ...args] = argv.map((a) => a.split('{user}').join(user)) as [string, ...string[]];
      execFile(cmd, args, { timeout: limits.kickCommandMs, maxBuffer: 256 * 1024, windowsHide: true }, (err, stdout, stderr) => {
        if (!err) {
          logger.info({ event: 'session.kick', user, cmd }, 'Dovecot sessions ended');
          resolve(null);
          return;
        }
        const status = err.killed ? 'timed out' : typeof err.code === 'number' ? `exit status ${err.code}` : String(err.code ?? err.message);
        const output = `${stderr}${stdout}`.trim().slice(0, limits.kickOutputBytes).replace(/\s+/g, ' ');
        logger.warn({ event: 'session.kick-failed', user, cmd, status, output }, 'kick_command failed');
        resolve(`${cmd} for ${user}: ${status}${output ? ` (${output})` : ''}`);
      });
    });
  // At most limits.kickParallel commands at once: a domain disallowed may end thousands of users' sessions.
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = async (user: string): Promise<string | null> => {
    if (running < limits.kickParallel) running++;
    else await new Promise<void>((r) => waiting.push(r)); // the slot is handed over, still counted
    try {
      return await run(user);
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
  return {
    kick(user) {
      const p = turn(user);
      pending.add(p);
      void p.then((failure) => {
        pending.delete(p);
        if (failure !== null) failures.push(failure);
      });
    },
    async drain() {
      while (pending.size > 0) await Promise.all([...pending]);
      await Promise.resolve(); // the .then above has run for the last ones
      return failures.splice(0);
    },
  };
}
