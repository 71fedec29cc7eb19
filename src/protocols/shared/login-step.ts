import type net from 'node:net';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import { metrics } from '../../core/metrics.js';
import { isOutOfFiles } from '../../core/open-files.js';
import type { Secret } from '../../core/secret.js';
import type { AuthDecision, AuthRequest, Authenticator, FailReason } from '../../policy/types.js';
import { decideWithin } from '../../policy/decide-within.js';
import { SessionOver } from './session-over.js';
import type { UpstreamCredentials } from './upstream-login-deadline.js';

/** A backend login that went through: the socket, and bytes the backend sent after its OK. */
export interface UpstreamSuccess {
  ok: true;
  socket: net.Socket;
  leftover: Buffer;
}

/** The backend refused: `temporary` when it said so (IMAP [UNAVAILABLE], POP3 [SYS/TEMP]). */
export interface UpstreamRefusal {
  ok: false;
  temporary: boolean;
  /** The backend's words, for the log line of a refused master login (SMTP gives them). */
  detail?: string;
}

export type LoggedIn = Extract<AuthDecision, { ok: true }>;

export interface LoginStepInput<R extends UpstreamSuccess> {
  req: AuthRequest;
  authenticator: Authenticator;
  master: { user: string; password: Secret };
  /** The protocol's backend login (greeting, TLS, client address, AUTH PLAIN). */
  upstream(credentials: UpstreamCredentials): Promise<R | UpstreamRefusal>;
  log: Logger;
  /** The client is gone (checked after each wait). */
  closed(): boolean;
  /** More fields for the 'login' line of a success (IMAP: the client name). */
  logFields: Record<string, unknown>;
  /** ... and of an application-code login (SMTP: its backend login mode). */
  appCodeLogFields: Record<string, unknown>;
  /** The backend connect failed for want of files (EMFILE/ENFILE): the connection limits hear it. */
  outOfFiles?(err: unknown): void;
}

/**
 * The part of a login no protocol says a word in: the policy's decision (within
 * limits.authDecisionMs), then the backend login with the user's own credentials or the master
 * login for an application code, the passthrough verdict reported back to the policy, and the
 * success logged. A refusal comes back as its reason (the session answers it from its table);
 * the backend's own words never reach the client. Throws SessionOver when the client left.
 */
export async function loginStep<R extends UpstreamSuccess>(
  i: LoginStepInput<R>,
): Promise<{ ok: true; result: R; decision: LoggedIn } | { ok: false; reason: FailReason }> {
  const { req, log } = i;
  const decision = await decideWithin(i.authenticator, req, log, limits.authDecisionMs);
  if (i.closed()) throw new SessionOver();
  if (!decision.ok) return decision;

  const credentials: UpstreamCredentials =
    decision.via === 'passthrough'
      ? { kind: 'passthrough', user: req.user, password: req.secret }
      : { kind: 'master', user: decision.user, masterUser: i.master.user, masterPassword: i.master.password };
  let result: R | UpstreamRefusal;
  try {
    result = await i.upstream(credentials);
  } catch (err) {
    // Upstream errors carry the backend's words and network causes only; credentials never enter an error.
    log.error({ event: LogEvent.backendError, user: req.user, via: decision.via, ...logSafeError(err) });
    metrics.backendError(req.protocol);
    if (isOutOfFiles(err) || isOutOfFiles((err as { cause?: unknown }).cause)) i.outOfFiles?.(err);
    if (decision.via === 'passthrough') await decision.passthrough.settle('backend-unavailable');
    return { ok: false, reason: 'backend-unavailable' };
  }
  if (!result.ok) {
    if (decision.via === 'passthrough') {
      await decision.passthrough.settle(result.temporary ? 'backend-unavailable' : 'rejected');
      if (i.closed()) throw new SessionOver();
      return { ok: false, reason: result.temporary ? 'backend-unavailable' : 'invalid-credentials' };
    }
    const err = new TwostepError('BACKEND_UNAVAILABLE', `backend refused the master login${result.detail ? `: ${result.detail}` : ''}`);
    log.error({ event: LogEvent.backendError, user: decision.user, via: decision.via, ...logSafeError(err) });
    metrics.backendError(req.protocol);
    return { ok: false, reason: 'backend-unavailable' };
  }
  if (decision.via === 'passthrough') void decision.passthrough.settle('ok'); // the backend accepted the password
  if (i.closed()) {
    result.socket.destroy();
    throw new SessionOver();
  }
  log.info({
    event: LogEvent.login,
    result: 'ok',
    user: decision.user,
    via: decision.via,
    mechanism: req.mechanism,
    ...(decision.via === 'app-code' ? { codeId: decision.codeId, codeName: decision.codeName, ...i.appCodeLogFields } : {}),
    ...i.logFields,
  });
  return { ok: true, result, decision };
}

