import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { AuthDecision, AuthRequest, Authenticator } from '../../policy/types.js';
import { errorText } from './error-text.js';

/** The policy's decision within deadlineMs (limits.authDecisionMs); a fault or timeout is backend-unavailable. */
export async function decideLogin(
  authenticator: Authenticator,
  req: AuthRequest,
  log: Logger,
  deadlineMs: number = limits.authDecisionMs,
): Promise<AuthDecision> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      authenticator.authenticate(req),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('authentication decision timed out')), deadlineMs);
      }),
    ]);
  } catch (err) {
    log.error({ event: 'policy-error', user: req.user, err: errorText(err) });
    return { ok: false, reason: 'backend-unavailable' };
  } finally {
    clearTimeout(timer);
  }
}
