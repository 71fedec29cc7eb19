import { TwostepError } from '../core/errors.js';
import { LogEvent } from '../core/log-events.js';
import type { Logger } from '../core/logger.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { AuthDecision, AuthRequest, Authenticator } from './types.js';

/**
 * The policy's decision within `deadlineMs` (the front ends: limits.authDecisionMs; the verify
 * service: limits.verifyDecisionMs); a fault or a timeout is 'backend-unavailable', logged.
 */
export async function decideWithin(authenticator: Authenticator, req: AuthRequest, log: Logger, deadlineMs: number): Promise<AuthDecision> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      authenticator.authenticate(req),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TwostepError('INTERNAL', 'authentication decision timed out')), deadlineMs);
      }),
    ]);
  } catch (err) {
    log.error({ event: LogEvent.policyError, user: req.user, ...logSafeError(err) });
    return { ok: false, reason: 'backend-unavailable' };
  } finally {
    clearTimeout(timer);
  }
}
