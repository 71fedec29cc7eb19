import { limits } from '../core/limits.js';
import { LogEvent } from '../core/log-events.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Logger } from '../core/logger.js';
import type { Policy } from '../policy/index.js';

/**
 * Audit retention and the guessing bounds' old rows: once at start, then every
 * limits.auditPruneIntervalMs; a failure is logged, never fatal.
 */
export function startAuditPruner(policy: Policy, logger: Logger): NodeJS.Timeout {
  const prune = () => {
    policy
      .pruneAudit()
      .then(() => policy.pruneGuard())
      .catch((err: unknown) => {
        logger.error({ event: LogEvent.auditPruneFailed, ...logSafeError(err) });
      });
  };
  prune();
  const timer = setInterval(prune, limits.auditPruneIntervalMs);
  timer.unref();
  return timer;
}
