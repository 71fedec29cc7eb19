import type { Hono } from 'hono';
import { Secret } from '../../core/secret.js';
import type { PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { codePage, signInPage } from '../views/sign-in-views.js';
import { BUSY_TEXT, browserToken, noticeOf, signedInUser } from './route-helpers.js';

const DAY_S = 24 * 60 * 60;

/** "Chrome on Linux": the browser family from the User-Agent, never the whole header. */
function browserName(ua: string | undefined): string {
  const u = ua ?? '';
  const browser = /Edg\//.test(u) ? 'Edge' : /Firefox\//.test(u) ? 'Firefox' : /Chrom(e|ium)\//.test(u) ? 'Chrome' : /Safari\//.test(u) ? 'Safari' : 'browser';
  const os = /Android/.test(u) ? 'Android' : /iPhone|iPad/.test(u) ? 'iOS' : /Windows/.test(u) ? 'Windows' : /Mac OS X/.test(u) ? 'macOS' : /Linux/.test(u) ? 'Linux' : '';
  return `${browser}${os ? ` on ${os}` : ''}`;
}

/** A short label for the trusted-devices list. */
const deviceLabel = (ua: string | undefined): string => `Web portal: ${browserName(ua)}`;

/** Guide §5: email address and password (checked by the mail server), then the code unless this computer is trusted. */
export function signInRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  app.get('/sign-in', (c) => {
    const s = c.get('user');
    if (s?.view.stage === 'signed-in') return c.redirect('/preferences/accounts', 303);
    if (s?.view.stage === 'second-factor') return c.redirect('/sign-in/code', 303);
    return c.html(signInPage({ csrf: c.get('csrf'), notice: noticeOf(c) }));
  });

  app.post('/sign-in', async (c) => {
    const email = field(c, 'email').trim();
    const device = d.cookies.get(c, 'device');
    const result = await d.policy.portalSignIn(
      {
        user: email,
        password: new Secret(field(c, 'password')),
        clientIp: c.get('clientIp'),
        browserToken: browserToken(c, d.cookies),
        browserLabel: browserName(c.req.header('user-agent')),
        ...(device === undefined ? {} : { deviceToken: device }),
      },
      d.checker,
    );
    if (!result.ok) {
      const error =
        result.reason === 'throttled'
          ? `Too many failed attempts. Try again in ${Math.ceil((result.retryAfterMs ?? 1000) / 60_000)} minute(s).`
          : result.reason === 'backend-unavailable'
            ? 'The mail server cannot be reached just now. Please try again later.'
            : 'The email address or password is not correct.';
      const status = result.reason === 'throttled' ? 429 : result.reason === 'backend-unavailable' ? 503 : 401;
      return c.html(signInPage({ csrf: c.get('csrf'), email, error }), status);
    }
    // A new session (new token) at every sign-in: a token planted earlier is worthless.
    const old = c.get('user');
    if (old) await d.policy.endWebSession(old.token);
    const trusted = result.secondFactor !== 'required';
    const { token } = await d.policy.createWebSession(
      'user',
      result.user,
      trusted ? 'signed-in' : 'second-factor',
      result.secondFactor === 'trusted-device' ? device : undefined,
    );
    d.cookies.set(c, 'session', token);
    return c.redirect(trusted ? '/preferences/accounts' : '/sign-in/code', 303);
  });

  app.get('/sign-in/code', (c) => {
    const s = c.get('user');
    if (!s) return c.redirect('/sign-in', 303);
    if (s.view.stage === 'signed-in') return c.redirect('/preferences/accounts', 303);
    return c.html(codePage({ csrf: c.get('csrf'), user: s.view.subject }));
  });

  app.post('/sign-in/code', async (c) => {
    const s = c.get('user');
    if (!s || s.view.stage !== 'second-factor') return c.redirect('/sign-in', 303);
    const user = s.view.subject;
    const r = await d.policy.portalSecondFactor(user, field(c, 'code'), c.get('clientIp'), browserToken(c, d.cookies), browserName(c.req.header('user-agent')));
    if (!r.ok) {
      const error =
        r.reason === 'throttled'
          ? `Too many wrong codes were entered for this account. Try again in ${Math.ceil((r.retryAfterMs ?? 1000) / 60_000)} minute(s).`
          : r.reason === 'unavailable'
            ? BUSY_TEXT
            : r.reason === 'one-time-code-required'
              ? 'Too many wrong codes were entered for this account: from this browser, sign in with one of your one-time codes.'
              : 'That code is not valid. Enter the current 6-digit code from your app, or an unused one-time code.';
      return c.html(codePage({ csrf: c.get('csrf'), user, error }), r.reason === 'throttled' ? 429 : r.reason === 'unavailable' ? 503 : 401);
    }
    const rotated = await d.policy.rotateWebSession(s.token, 'user', 'signed-in');
    if (!rotated) return c.redirect('/sign-in?done=expired', 303);
    d.cookies.set(c, 'session', rotated.token);
    if (field(c, 'trust') === '1') {
      const deviceToken = await d.policy.trustDevice(user, deviceLabel(c.req.header('user-agent')), rotated.token);
      d.cookies.set(c, 'device', deviceToken, d.trustedDeviceDays * DAY_S);
    }
    return c.redirect(r.failedSince > 0 ? `/preferences/accounts?done=code-failures&n=${r.failedSince}` : '/preferences/accounts', 303);
  });

  app.post('/sign-out', async (c) => {
    const s = c.get('user');
    if (s) await d.policy.endWebSession(s.token);
    d.cookies.clear(c, 'session');
    return c.redirect('/sign-in?done=signed-out', 303);
  });

  app.post('/sign-out-all', async (c) => {
    const s = signedInUser(c);
    if (s) await d.policy.endAllWebSessions('user', s.view.subject, c.get('clientIp'));
    else if (c.get('user')) await d.policy.endWebSession(c.get('user')?.token ?? '');
    d.cookies.clear(c, 'session');
    return c.redirect('/sign-in?done=signed-out-all', 303);
  });
}
