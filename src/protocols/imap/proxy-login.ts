import type net from 'node:net';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { AuthDecision, AuthRequest, FailReason } from '../../policy/types.js';
import { decideLogin } from '../shared/decide-login.js';
import { errorText } from '../shared/error-text.js';
import { loginInputMalformed, safeUser } from '../shared/login-input.js';
import { splice, type Splice } from '../shared/splice.js';
import type { LoginCredentials } from './login-credentials.js';
import { imapText } from './responses.js';
import type { ImapSessionContext } from './session-context.js';
import { ImapSessionState } from './session-state.js';
import { SessionOver } from './session-over.js';
import { upstreamLogin, type UpstreamCredentials, type UpstreamLoginResult } from './upstream-login.js';

/** A client that is now logged in upstream: its bytes are being copied. */
export interface ProxiedLogin {
  splice: Splice;
  backend: net.Socket;
  decision: Extract<AuthDecision, { ok: true }>;
}

/**
 * The login step shared by LOGIN and AUTHENTICATE: input checks, the policy decision, the
 * backend login (the user's own credentials, or the master login for an application code),
 * then the tagged OK with the backend's capabilities and the splice. Returns undefined when the
 * login failed (already answered; the session reads commands again).
 */
export async function proxyLogin(ctx: ImapSessionContext, tag: string, c: LoginCredentials): Promise<ProxiedLogin | undefined> {
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail(tag, 'tls-required', c.user, c.mechanism);
  if (loginInputMalformed(c)) {
    return ctx.fail(tag, 'malformed', safeUser(c.user), c.mechanism);
  }
  const req: AuthRequest = {
    protocol: 'imap',
    mechanism: c.mechanism,
    user: c.user,
    authzid: c.authzid,
    secret: c.secret,
    clientIp: ctx.client.ip,
    clientPort: ctx.client.port,
    tls: ctx.tls,
    clientName: ctx.clientName,
    cid: ctx.cid,
  };
  ctx.state = ImapSessionState.LoggingIn;
  ctx.holdInput();

  const decision = await decideLogin(ctx.authenticator, req, ctx.log);
  if (ctx.closed()) throw new SessionOver();
  if (!decision.ok) return afterFailure(ctx, tag, decision.reason, req);

  const credentials: UpstreamCredentials =
    decision.via === 'passthrough'
      ? { kind: 'passthrough', user: req.user, password: req.secret }
      : { kind: 'master', user: decision.user, masterUser: ctx.master.user, masterPassword: ctx.master.password };
  let result: UpstreamLoginResult;
  try {
    result = await upstreamLogin({ backend: ctx.backend, credentials, client: ctx.client });
  } catch (err) {
    // Upstream errors carry the backend's words and network causes only; credentials never enter an error.
    const errorCode = isTwostepError(err) ? err.code : 'INTERNAL';
    ctx.log.error({ event: 'backend-error', user: req.user, via: decision.via, errorCode, err: errorText(err) });
    if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'backend-unavailable');
    return afterFailure(ctx, tag, 'backend-unavailable', req);
  }
  if (!result.ok) {
    if (decision.via === 'passthrough') {
      ctx.authenticator.reportPassthrough(req, 'rejected');
      return afterFailure(ctx, tag, 'invalid-credentials', req);
    }
    ctx.log.error({ event: 'backend-error', user: decision.user, via: decision.via, err: 'backend refused the master login' });
    return afterFailure(ctx, tag, 'backend-unavailable', req);
  }
  if (ctx.closed()) {
    result.socket.destroy();
    throw new SessionOver();
  }

  // Logged in: relay the backend's post-login capabilities, then only copy bytes.
  ctx.send(`${tag} OK [CAPABILITY ${result.capabilities}] ${imapText.loginOk}`);
  if (decision.via === 'passthrough') ctx.authenticator.reportPassthrough(req, 'ok');
  ctx.log.info({
    event: 'login',
    result: 'ok',
    user: decision.user,
    via: decision.via,
    mechanism: req.mechanism,
    ...(decision.via === 'app-code' ? { codeId: decision.codeId, codeName: decision.codeName } : {}),
    client: ctx.clientName,
  });
  ctx.state = ImapSessionState.Proxying;
  const { socket, pending } = ctx.handOver(); // commands pipelined after the login go to the backend
  if (result.leftover.length) ctx.write(result.leftover);
  if (pending.length) result.socket.write(pending);
  const spliced = splice(socket, result.socket, { idleMs: limits.proxyIdleMs, lingerMs: limits.spliceLingerMs });
  return { splice: spliced, backend: result.socket, decision };
}

function afterFailure(ctx: ImapSessionContext, tag: string, reason: FailReason, req: AuthRequest): undefined {
  ctx.state = ImapSessionState.NotAuthenticated;
  ctx.resumeInput();
  return ctx.fail(tag, reason, req.user, req.mechanism);
}
