import type { Logger } from '../../core/logger.js';
import type { RevocationCheck } from '../../policy/types.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { SessionRegistry } from './session-registry.js';

export interface RevocationWatcherOptions {
  registry: SessionRegistry;
  policy: RevocationCheck;
  /** limits.revocationPollMs, or [auth] revocation_poll_seconds. */
  intervalMs: number;
  logger: Logger;
}

export interface RevocationWatcher {
  /** One check now; resolves to how many sessions it ended. The timer calls this (never two at once). */
  check(): Promise<number>;
  /** Stops polling (server close). */
  stop(): void;
}

/**
 * Ends live sessions whose application code no longer signs in. Revocation happens in another
 * process (the CLI, another node) that shares only the database, so the watcher polls: every intervalMs it
 * asks the policy about the code ids of the registered sessions (no query when there are none)
 * and ends the sessions of every code the policy reports as revoked.
 *
 * Wire behaviour: like Dovecot's `doveadm kick`, the session just ends. Dovecot's kick says
 * "* BYE" first because it is the IMAP server and knows where a response begins; after login
 * twostep only copies bytes and does not know whether the backend is mid-response (a literal,
 * a FETCH body), so injected bytes could corrupt what the client parses. Both sockets are
 * closed instead; the client reconnects, and its next login is refused by the policy.
 *
 * A failed check (database busy or gone) is logged and the sessions are kept: the next poll
 * tries again. A poll that falls due while the previous check still runs is skipped. Where the
 * store announces revocations (PostgreSQL's LISTEN/NOTIFY, policy.onRevocation), each notice
 * checks at once (once more after a check under way), so a revoke on any node ends the sessions
 * on every node within a round trip; the poll stays as the fallback.
 */
export function startRevocationWatcher(o: RevocationWatcherOptions): RevocationWatcher {
  const log = o.logger;
  const check = async (): Promise<number> => {
    const ids = o.registry.codeIds();
    if (ids.length === 0) return 0;
    let revoked: number[];
    try {
      revoked = await o.policy.revokedCodeIds(ids);
    } catch (err) {
      log.error({ event: LogEvent.revocationCheckFailed, ...logSafeError(err) });
      return 0;
    }
    if (revoked.length === 0) return 0;
    const sessions = o.registry.usingCodes(revoked);
    for (const s of sessions) {
      o.registry.remove(s);
      log.info({ event: LogEvent.sessionRevoked, cid: s.cid, proto: s.protocol, user: s.user, ip: s.clientIp, codeName: s.codeName });
      s.destroy();
      try {
        o.policy.recordSessionRevoked({
          protocol: s.protocol,
          user: s.user,
          codeId: s.codeId,
          codeName: s.codeName,
          cid: s.cid,
          clientIp: s.clientIp,
        });
      } catch (err) {
        log.error({ event: LogEvent.auditWriteFailed, cid: s.cid, ...logSafeError(err) });
      }
    }
    return sessions.length;
  };
  let running = false;
  let again = false;
  const poll = () => {
    if (running) {
      again = true; // a notice during a check: one more check after it
      return;
    }
    running = true;
    void check().finally(() => {
      running = false;
      if (again) {
        again = false;
        poll();
      }
    });
  };
  const timer = setInterval(poll, o.intervalMs);
  timer.unref(); // the listeners keep the process alive, not this timer
  // A revocation announced by the store (another node, the CLI: PostgreSQL's NOTIFY) is checked
  // at once instead of at the next poll.
  const unsubscribe = o.policy.onRevocation?.(poll);
  return {
    check,
    stop: () => {
      clearInterval(timer);
      unsubscribe?.();
    },
  };
}
