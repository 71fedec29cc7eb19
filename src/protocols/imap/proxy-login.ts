import type { LoginCredentials } from '../shared/login-credentials.js';
import { loginAndSplice, type ProxiedLogin } from '../shared/login-and-splice.js';
import { imapText } from './responses.js';
import type { ImapSessionContext } from './session-context.js';
import { ImapSessionState } from './session-state.js';
import { upstreamLogin, type UpstreamLoginResult } from './upstream-login.js';

const PHASE = {
  'logging-in': ImapSessionState.LoggingIn,
  'not-authenticated': ImapSessionState.NotAuthenticated,
  proxying: ImapSessionState.Proxying,
} as const;

/**
 * The IMAP side of the shared login step (LOGIN and AUTHENTICATE): tagged failures from
 * responses.ts, the backend login over IMAP (ID, AUTHENTICATE PLAIN), and the tagged OK with
 * Dovecot's post-login capabilities. Returns undefined when the login failed (already answered).
 */
export function proxyLogin(ctx: ImapSessionContext, tag: string, c: LoginCredentials): Promise<ProxiedLogin | undefined> {
  return loginAndSplice<Extract<UpstreamLoginResult, { ok: true }>>(ctx, {
    protocol: 'imap',
    clientName: ctx.clientName,
    fail: (reason, user, mechanism) => ctx.fail(tag, reason, user, mechanism),
    enter: (phase) => {
      ctx.state = PHASE[phase];
    },
    upstream: (credentials) => upstreamLogin({ backend: ctx.backend, credentials, client: ctx.client }),
    loggedIn: (result) => ctx.send(`${tag} OK [CAPABILITY ${result.capabilities}] ${imapText.loginOk}`),
  }, c);
}
