import { limits } from '../../core/limits.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { loginAndSplice, type ProxiedLogin } from '../shared/login-and-splice.js';
import { backendFarewell } from './backend-farewell.js';
import { smtpReply } from './responses.js';
import type { SmtpSessionContext } from './session-context.js';
import { SmtpSessionState } from './session-state.js';
import { upstreamLogin } from './upstream-login.js';

const PHASE = {
  'logging-in': SmtpSessionState.LoggingIn,
  'not-authenticated': SmtpSessionState.NotAuthenticated,
  proxying: SmtpSessionState.Proxying,
} as const;

/**
 * The SMTP side of the shared login step (AUTH): failures from responses.ts (535, 454, 501), the
 * backend login over SMTP (the user's own AUTH relayed for passthrough; for an application code
 * the master login or XCLIENT LOGIN, per [smtp] backend_login), "235", and a splice that tells
 * the client 421 when Postfix goes away between replies. Returns undefined when the login failed
 * (already answered).
 */
export function proxyLogin(ctx: SmtpSessionContext, c: LoginCredentials): Promise<ProxiedLogin | undefined> {
  const helo = ctx.helo as string; // AUTH is refused before EHLO
  return loginAndSplice(ctx, {
    protocol: 'smtp',
    fail: (reason, user, mechanism) => ctx.fail(reason, user, mechanism),
    enter: (phase) => {
      ctx.state = PHASE[phase];
    },
    upstream: (credentials) =>
      upstreamLogin({
        backend: ctx.backend,
        credentials: credentials.kind === 'master' && ctx.backendLogin === 'xclient' ? { kind: 'xclient', user: credentials.user } : credentials,
        client: ctx.client,
        helo,
        deadlineMs: ctx.backendLoginMs,
      }),
    loggedIn: () => ctx.send(smtpReply.authOk),
    appCodeLog: { backendLogin: ctx.backendLogin },
    splice: (backend) => ({ idleMs: limits.smtpProxyIdleMs, backendGone: backendFarewell(backend) }),
  }, c);
}
