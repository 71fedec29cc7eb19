import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { AuthDecision, AuthRequest, Authenticator } from '../../policy/types.js';
import { errorText } from './error-text.js';

/**
 * The policy's decision within limits.authDecisionMs; a fault or timeout is backend-unavailable
 * (the client hears a temporary failure, the log says why). Shared by every protocol front end.
 */
export async function decideLogin(authenticator: Authenticator, req: AuthRequest, log: Logger): Promise<AuthDecision> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      authenticator.authenticate(req),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('authentication decision timed out')), limits.authDecisionMs);
      }),
    ]);
  } catch (err) {
    log.error({ event: 'policy-error', user: req.user, err: errorText(err) });
    return { ok: false, reason: 'backend-unavailable' };
  } finally {
    clearTimeout(timer);
  }
}
