import type { LoginCredentials } from '../shared/login-credentials.js';
import { loginAndSplice, type ProxiedLogin } from '../shared/login-and-splice.js';
import { ok, pop3Text } from './responses.js';
import type { Pop3SessionContext } from './session-context.js';
import { Pop3SessionState } from './session-state.js';
import { pop3UpstreamLogin } from './upstream-login.js';

const PHASE = {
  'logging-in': Pop3SessionState.LoggingIn,
  'not-authenticated': Pop3SessionState.NotAuthenticated,
  proxying: Pop3SessionState.Proxying,
} as const;

/**
 * The POP3 side of the shared login step (USER/PASS and AUTH): failures from responses.ts
 * ([AUTH], [SYS/TEMP]), the backend login over POP3 (XCLIENT, AUTH PLAIN), and "+OK". Returns
 * undefined when the login failed (already answered).
 */
export function proxyLogin(ctx: Pop3SessionContext, c: LoginCredentials): Promise<ProxiedLogin | undefined> {
  return loginAndSplice(ctx, {
    protocol: 'pop3',
    fail: (reason, user, mechanism) => ctx.fail(reason, user, mechanism),
    enter: (phase) => {
      ctx.state = PHASE[phase];
    },
    upstream: (credentials) => pop3UpstreamLogin({ backend: ctx.backend, credentials, client: ctx.client, log: ctx.log }),
    loggedIn: () => ctx.send(ok(pop3Text.loginOk)),
  }, c);
}
