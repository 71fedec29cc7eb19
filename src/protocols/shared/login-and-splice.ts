import type net from 'node:net';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { AuthDecision, AuthRequest, Authenticator, FailReason, Protocol } from '../../policy/types.js';
import { credentialsMalformed, safeUser } from './credentials-check.js';
import { decideLogin } from './decide-login.js';
import { errorText } from './error-text.js';
import type { LoginCredentials } from './login-credentials.js';
import { SessionOver } from './session-over.js';
import { splice, type Splice, type SpliceOptions } from './splice.js';
import type { UpstreamCredentials } from './upstream-login-deadline.js';

/** What the login step needs of a session (the protocols' session contexts have all of it). */
export interface LoginSessionSurface {
  readonly cid: string;
  readonly log: Logger;
  readonly authenticator: Authenticator;
  readonly master: { user: string; password: Secret };
  readonly allowPlaintext: boolean;
  readonly tls: boolean;
  readonly client: { ip: string; port: number; localIp: string; localPort: number };
  closed(): boolean;
  write(bytes: Buffer): void;
  holdInput(): void;
  resumeInput(): void;
  handOver(): { socket: net.Socket; pending: Buffer };
}

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

/** Where the protocol differs: its wire replies, its state enum and its backend dialogue. */
export interface LoginProtocol<R extends UpstreamSuccess> {
  protocol: Protocol;
  /** IMAP ID name, when the client sent one. */
  clientName?: string;
  /** Answers a failed login from the protocol's one table (and counts it). */
  fail(reason: FailReason, user: string | undefined, mechanism: string): undefined;
  /** Moves the session's state enum to the phase the login step is in. */
  enter(phase: 'logging-in' | 'not-authenticated' | 'proxying'): void;
  /** The protocol's backend login (greeting, TLS, client address, AUTH PLAIN). */
  upstream(credentials: UpstreamCredentials): Promise<R | UpstreamRefusal>;
  /** Tells the client it is logged in (IMAP relays the backend's capabilities). */
  loggedIn(result: R): void;
  /** More fields for the 'login' line of an application-code login (SMTP: its backend login mode). */
  appCodeLog?: Record<string, unknown>;
  /**
   * The protocol's own splice settings, given the logged-in backend socket (SMTP: its idle
   * deadline, and a 421 for the client when the backend goes away between replies). Default:
   * limits.proxyIdleMs and a plain close.
   */
  splice?(backend: net.Socket): Partial<Pick<SpliceOptions, 'idleMs' | 'backendGone'>>;
}

/** A client that is now logged in upstream: its bytes are being copied. */
export interface ProxiedLogin {
  splice: Splice;
  backend: net.Socket;
  decision: Extract<AuthDecision, { ok: true }>;
}

/**
 * The login step every front end shares: input checks, the policy decision, the backend login
 * (the user's own credentials, or the master login for an application code), the success reply
 * and the splice. Every failure is answered from the protocol's table, never in the backend's
 * words; passthrough outcomes go back to the policy. Returns undefined when the login failed
 * (already answered; the session reads commands again).
 */
export async function loginAndSplice<R extends UpstreamSuccess>(
  ctx: LoginSessionSurface,
  p: LoginProtocol<R>,
  c: LoginCredentials,
): Promise<ProxiedLogin | undefined> {
  if (!ctx.tls && !ctx.allowPlaintext) return p.fail('tls-required', c.user, c.mechanism);
  if (credentialsMalformed(c)) return p.fail('malformed', safeUser(c.user), c.mechanism);
  const req: AuthRequest = {
    protocol: p.protocol,
    mechanism: c.mechanism,
    user: c.user,
    authzid: c.authzid,
    secret: c.secret,
    clientIp: ctx.client.ip,
    clientPort: ctx.client.port,
    tls: ctx.tls,
    clientName: p.clientName,
    cid: ctx.cid,
  };
  const refuse = (reason: FailReason): undefined => {
    p.enter('not-authenticated');
    ctx.resumeInput();
    return p.fail(reason, req.user, req.mechanism);
  };
  p.enter('logging-in');
  ctx.holdInput();

  const decision = await decideLogin(ctx.authenticator, req, ctx.log);
  if (ctx.closed()) throw new SessionOver();
  if (!decision.ok) return refuse(decision.reason);

  const credentials: UpstreamCredentials =
    decision.via === 'passthrough'
      ? { kind: 'passthrough', user: req.user, password: req.secret }
      : { kind: 'master', user: decision.user, masterUser: ctx.master.user, masterPassword: ctx.master.password };
  let result: R | UpstreamRefusal;
  try {
    result = await p.upstream(credentials);
  } catch (err) {
    // Upstream errors carry the backend's words and network causes only; credentials never enter an error.
    const errorCode = isTwostepError(err) ? err.code : 'INTERNAL';
    ctx.log.error({ event: 'backend-error', user: req.user, via: decision.via, errorCode, err: errorText(err) });
    if (decision.via === 'passthrough') await decision.passthrough.settle('backend-unavailable');
    return refuse('backend-unavailable');
  }
  if (!result.ok) {
    if (decision.via === 'passthrough') {
      await decision.passthrough.settle(result.temporary ? 'backend-unavailable' : 'rejected');
      if (ctx.closed()) throw new SessionOver();
      return refuse(result.temporary ? 'backend-unavailable' : 'invalid-credentials');
    }
    const err = `backend refused the master login${result.detail ? `: ${result.detail}` : ''}`;
    ctx.log.error({ event: 'backend-error', user: decision.user, via: decision.via, err });
    return refuse('backend-unavailable');
  }
  if (ctx.closed()) {
    result.socket.destroy();
    if (decision.via === 'passthrough') void decision.passthrough.settle('ok'); // the backend accepted the password
    throw new SessionOver();
  }

  p.loggedIn(result);
  if (decision.via === 'passthrough') void decision.passthrough.settle('ok');
  ctx.log.info({
    event: 'login',
    result: 'ok',
    user: decision.user,
    via: decision.via,
    mechanism: req.mechanism,
    ...(decision.via === 'app-code' ? { codeId: decision.codeId, codeName: decision.codeName, ...p.appCodeLog } : {}),
    client: p.clientName,
  });
  p.enter('proxying');
  const { socket, pending } = ctx.handOver(); // commands pipelined after the login go to the backend
  if (result.leftover.length) ctx.write(result.leftover);
  if (pending.length) result.socket.write(pending);
  const spliced = splice(socket, result.socket, { idleMs: limits.proxyIdleMs, lingerMs: limits.spliceLingerMs, ...p.splice?.(result.socket) });
  return { splice: spliced, backend: result.socket, decision };
}
