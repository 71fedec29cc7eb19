import type { Hono } from 'hono';
import QRCode from 'qrcode';
import { Secret } from '../../core/secret.js';
import type { LoadedSession, PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { setupAppPage, setupConfirmPage, setupIntroPage, setupKeyPage, setupPasswordPage, setupSuccessPage } from '../views/setup-views.js';
import { refusalMessage, signedInUser, type SessionHandler } from './route-helpers.js';


/**
 * Guide §4, the setup wizard: Begin Setup → Confirm Password → install the app → key and QR code
 * → "Enter code to confirm setup" → Success. Steps after the password need it confirmed recently
 * in this session (the policy says what recently is).
 */
export function setupRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  const guard = (fresh: boolean, h: SessionHandler) => async (c: PortalContext) => {
    const s = signedInUser(c);
    if (!s) return c.redirect('/sign-in', 303);
    // Already on (e.g. the Success page reloaded, or Back after Finish) or not allowed: nothing to set up.
    if (!(await d.policy.accountOverview(s.view.subject)).maySetUp) return c.redirect('/preferences/accounts', 303);
    if (fresh && !s.view.recentlyReauthenticated) return c.redirect('/setup/password', 303);
    return h(c, s);
  };
  const base = (c: PortalContext, s: LoadedSession) => ({ csrf: c.get('csrf'), user: s.view.subject });

  app.get('/setup', guard(false, (c, s) => c.html(setupIntroPage(base(c, s)))));
  app.get('/setup/password', guard(false, (c, s) => c.html(setupPasswordPage(base(c, s)))));
  app.post(
    '/setup/password',
    guard(false, async (c, s) => {
      // The same check as at sign-in (mail server, throttle, audit).
      const r = await d.policy.portalSignIn({ user: s.view.subject, password: new Secret(field(c, 'password')), clientIp: c.get('clientIp') }, d.checker);
      if (!r.ok) {
        const error = r.reason === 'throttled' ? 'Too many failed attempts. Try again later.' : r.reason === 'backend-unavailable' ? 'The mail server cannot be reached just now.' : 'The password is not correct.';
        return c.html(setupPasswordPage({ ...base(c, s), error }), 401);
      }
      await d.policy.markWebSessionReauth(s.token);
      return c.redirect('/setup/app', 303);
    }),
  );
  app.get('/setup/app', guard(true, (c, s) => c.html(setupAppPage(base(c, s)))));
  app.post(
    '/setup/app',
    guard(true, async (c, s) => {
      try {
        await d.policy.totpEnroll(s.view.subject);
      } catch (err) {
        return c.html(setupAppPage({ ...base(c, s), error: refusalMessage(err) }), 409);
      }
      return c.redirect('/setup/key', 303);
    }),
  );
  app.get(
    '/setup/key',
    guard(true, async (c, s) => {
      const pending = await d.policy.totpPendingKey(s.view.subject);
      if (!pending) return c.redirect('/setup/app', 303);
      const qrDataUri = await QRCode.toDataURL(pending.uri, { errorCorrectionLevel: 'M', margin: 2, width: 200 });
      return c.html(setupKeyPage({ ...base(c, s), key: pending.key, qrDataUri }));
    }),
  );
  app.get('/setup/confirm', guard(true, (c, s) => c.html(setupConfirmPage(base(c, s)))));
  app.post(
    '/setup/confirm',
    guard(true, async (c, s) => {
      try {
        const { oneTimeCodes } = await d.policy.totpConfirm(s.view.subject, field(c, 'code'));
        return c.html(setupSuccessPage({ ...base(c, s), oneTimeCodes }));
      } catch (err) {
        return c.html(setupConfirmPage({ ...base(c, s), error: refusalMessage(err) }), 400);
      }
    }),
  );
}
