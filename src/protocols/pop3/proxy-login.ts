import type net from 'node:net';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { AuthDecision, AuthRequest, FailReason } from '../../policy/types.js';
import { credentialsMalformed, safeUser } from '../shared/credentials-check.js';
import { decideLogin } from '../shared/decide-login.js';
import { errorText } from '../shared/error-text.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { SessionOver } from '../shared/session-over.js';
import { splice, type Splice } from '../shared/splice.js';
import type { UpstreamCredentials } from '../shared/upstream-login-deadline.js';
import { ok, pop3Text } from './responses.js';
import type { Pop3SessionContext } from './session-context.js';
import { Pop3SessionState } from './session-state.js';
import { pop3UpstreamLogin, type Pop3UpstreamLoginResult } from './upstream-login.js';

/** A client that is now logged in upstream: its bytes are being copied. */
export interface ProxiedLogin {
  splice: Splice;
  backend: net.Socket;
  decision: Extract<AuthDecision, { ok: true }>;
}

/**
 * The login step shared by USER/PASS and AUTH: input checks, the policy decision, the backend
 * login (the user's own credentials, or the master login for an application code), then "+OK"
 * and the splice. Every failure is answered from responses.ts, never with the backend's words.
 * Returns undefined when the login failed (already answered; the session reads commands again).
 */
export async function proxyLogin(ctx: Pop3SessionContext, c: LoginCredentials): Promise<ProxiedLogin | undefined> {
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail('tls-required', c.user, c.mechanism);
  if (credentialsMalformed(c)) return ctx.fail('malformed', safeUser(c.user), c.mechanism);
  const req: AuthRequest = {
    protocol: 'pop3',
    mechanism: c.mechanism,
    user: c.user,
    authzid: c.authzid,
    secret: c.secret,
    clientIp: ctx.client.ip,
    clientPort: ctx.client.port,
    tls: ctx.tls,
    cid: ctx.cid,
  };
  ctx.state = Pop3SessionState.LoggingIn;
  ctx.holdInput();

  const decision = await decideLogin(ctx.authenticator, req, ctx.log);
  if (ctx.closed()) throw new SessionOver();
  if (!decision.ok) return afterFailure(ctx, decision.reason, req);

  const credentials: UpstreamCredentials =
    decision.via === 'passthrough'
      ? { kind: 'passthrough', user: req.user, password: req.secret }
      : { kind: 'master', user: decision.user, masterUser: ctx.master.user, masterPassword: ctx.master.password };
  let result: Pop3UpstreamLoginResult;
  try {
    result = await pop3UpstreamLogin({ backend: ctx.backend, credentials, client: ctx.client, log: ctx.log });
  } catch (err) {
    // Upstream errors carry the backend's words and network causes only; credentials never enter an error.
    const errorCode = isTwostepError(err) ? err.code : 'INTERNAL';
    ctx.log.error({ event: 'backend-error', user: req.user, via: decision.via, errorCode, err: errorText(err) });
    if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'backend-unavailable');
    return afterFailure(ctx, 'backend-unavailable', req);
  }
  if (!result.ok) {
    if (decision.via === 'passthrough') {
      ctx.authenticator.reportPassthrough(req, result.temporary ? 'backend-unavailable' : 'rejected');
      return afterFailure(ctx, result.temporary ? 'backend-unavailable' : 'invalid-credentials', req);
    }
    ctx.log.error({ event: 'backend-error', user: decision.user, via: decision.via, err: 'backend refused the master login' });
    return afterFailure(ctx, 'backend-unavailable', req);
  }
  if (ctx.closed()) {
    result.socket.destroy();
    throw new SessionOver();
  }

  ctx.send(ok(pop3Text.loginOk));
  if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'ok');
  ctx.log.info({
    event: 'login',
    result: 'ok',
    user: decision.user,
    via: decision.via,
    mechanism: req.mechanism,
    ...(decision.via === 'app-code' ? { codeId: decision.codeId, codeName: decision.codeName } : {}),
  });
  ctx.state = Pop3SessionState.Proxying;
  const { socket, pending } = ctx.handOver(); // commands pipelined after the login go to the backend
  if (result.leftover.length) ctx.write(result.leftover);
  if (pending.length) result.socket.write(pending);
  const spliced = splice(socket, result.socket, { idleMs: limits.proxyIdleMs, lingerMs: limits.spliceLingerMs });
  return { splice: spliced, backend: result.socket, decision };
}

function afterFailure(ctx: Pop3SessionContext, reason: FailReason, req: AuthRequest): undefined {
  ctx.state = Pop3SessionState.NotAuthenticated;
  ctx.resumeInput();
  return ctx.fail(reason, req.user, req.mechanism);
}
