import type net from 'node:net';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { AuthDecision, AuthRequest, FailReason } from '../../policy/types.js';
import { decideLogin } from '../shared/decide-login.js';
import { errorText } from '../shared/error-text.js';
import { credentialsMalformed, safeUser } from '../shared/credentials-check.js';
import { splice, type Splice } from '../shared/splice.js';
import { backendFarewell } from './backend-farewell.js';
import { smtpReply } from './responses.js';
import type { SmtpSessionContext } from './session-context.js';
import { SessionOver } from '../shared/session-over.js';
import { SmtpSessionState } from './session-state.js';
import type { SmtpCredentials } from './smtp-credentials.js';
import { upstreamLogin, type UpstreamCredentials, type UpstreamLoginResult } from './upstream-login.js';

/** A client that is now logged in at the backend: its bytes are being copied. */
export interface ProxiedLogin {
  splice: Splice;
  backend: net.Socket;
  decision: Extract<AuthDecision, { ok: true }>;
}

/**
 * The login step after AUTH: input checks, the policy decision, the backend login (the user's
 * own AUTH relayed for passthrough; for an application code the master login or XCLIENT LOGIN,
 * per [smtp] backend_login), then 235 and the splice. Returns undefined when the login failed
 * (already answered; the session reads commands again).
 */
export async function proxyLogin(ctx: SmtpSessionContext, c: SmtpCredentials): Promise<ProxiedLogin | undefined> {
  if (credentialsMalformed(c)) return ctx.fail('malformed', safeUser(c.user), c.mechanism);
  const helo = ctx.helo as string; // AUTH is refused before EHLO
  const req: AuthRequest = {
    protocol: 'smtp',
    mechanism: c.mechanism,
    user: c.user,
    authzid: c.authzid,
    secret: c.secret,
    clientIp: ctx.client.ip,
    clientPort: ctx.client.port,
    tls: ctx.tls,
    cid: ctx.cid,
  };
  ctx.state = SmtpSessionState.LoggingIn;
  ctx.holdInput();

  const decision = await decideLogin(ctx.authenticator, req, ctx.log);
  if (ctx.closed()) throw new SessionOver();
  if (!decision.ok) return afterFailure(ctx, decision.reason, req);

  const credentials: UpstreamCredentials =
    decision.via === 'passthrough'
      ? { kind: 'passthrough', user: req.user, password: req.secret }
      : ctx.backendLogin === 'xclient'
        ? { kind: 'xclient', user: decision.user }
        : { kind: 'master', user: decision.user, masterUser: ctx.master.user, masterPassword: ctx.master.password };
  let result: UpstreamLoginResult;
  try {
    result = await upstreamLogin({ backend: ctx.backend, credentials, client: ctx.client, helo, deadlineMs: ctx.backendLoginMs });
  } catch (err) {
    // Upstream errors carry the backend's words and network causes only; credentials never enter an error.
    const errorCode = isTwostepError(err) ? err.code : 'INTERNAL';
    ctx.log.error({ event: 'backend-error', user: req.user, via: decision.via, errorCode, err: errorText(err) });
    if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'backend-unavailable');
    return afterFailure(ctx, 'backend-unavailable', req);
  }
  if (!result.ok) {
    if (decision.via === 'passthrough') {
      ctx.authenticator.reportPassthrough(req, 'rejected');
      return afterFailure(ctx, 'invalid-credentials', req);
    }
    ctx.log.error({ event: 'backend-error', user: decision.user, via: decision.via, err: `backend refused the master login: ${result.text}` });
    return afterFailure(ctx, 'backend-unavailable', req);
  }
  if (ctx.closed()) {
    result.socket.destroy();
    throw new SessionOver();
  }

  ctx.send(smtpReply.authOk);
  if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'ok');
  ctx.log.info({
    event: 'login',
    result: 'ok',
    user: decision.user,
    via: decision.via,
    mechanism: req.mechanism,
    ...(decision.via === 'app-code' ? { codeId: decision.codeId, codeName: decision.codeName, backendLogin: ctx.backendLogin } : {}),
  });
  ctx.state = SmtpSessionState.Proxying;
  const { socket, pending } = ctx.handOver(); // MAIL/RCPT/DATA pipelined after AUTH go to the backend
  const farewell = backendFarewell(result.socket);
  if (result.leftover.length) socket.write(result.leftover);
  if (pending.length) result.socket.write(pending);
  const spliced = splice(socket, result.socket, { idleMs: limits.smtpProxyIdleMs, lingerMs: limits.spliceLingerMs, backendGone: farewell });
  return { splice: spliced, backend: result.socket, decision };
}

function afterFailure(ctx: SmtpSessionContext, reason: FailReason, req: AuthRequest): undefined {
  ctx.state = SmtpSessionState.NotAuthenticated;
  ctx.resumeInput();
  return ctx.fail(reason, req.user, req.mechanism);
}
