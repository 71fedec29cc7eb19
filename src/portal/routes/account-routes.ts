import type { Hono } from 'hono';
import type { LoadedSession, PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { accountsPage } from '../views/accounts-views.js';
import { codesPage, codesPrintPage } from '../views/codes-views.js';
import { warningPage } from '../views/layout.js';
import { guardedRoutes, noticeOf, refusalMessage, signedInUser } from './route-helpers.js';

/** Preferences → Accounts (guide §7-§10): one-time codes, trusted devices, revoking application codes, disable. */
export function accountRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  const { get, post } = guardedRoutes(app, signedInUser, '/sign-in');
  const opts = (c: PortalContext, s: LoadedSession) => ({ csrf: c.get('csrf'), signedInAs: { name: s.view.subject, area: 'user' as const } });
  const accounts = async (c: PortalContext, s: LoadedSession, extra: { notice?: string; error?: string } = {}) =>
    c.html(accountsPage({ csrf: c.get('csrf'), user: s.view.subject, overview: await d.policy.accountOverview(s.view.subject), notice: extra.notice ?? noticeOf(c), error: extra.error }));

  app.get('/', (c) => c.redirect(signedInUser(c) ? '/preferences/accounts' : '/sign-in', 303));
  get('/preferences/accounts', (c, s) => accounts(c, s));

  // §10 Disable two-step authentication
  get('/disable', (c, s) =>
    c.html(
      warningPage({
        ...opts(c, s),
        title: 'Disable two-step authentication',
        heading: 'Disable two-step authentication?',
        text: 'Your password alone will sign in again. Your application codes stop working, and your one-time codes and trusted devices are deleted.',
        action: '/disable',
        button: 'Yes',
        cancel: '/preferences/accounts',
      }),
    ),
  );
  post('/disable', async (c, s) => {
    try {
      await d.policy.userDisable(s.view.subject);
    } catch (err) {
      return accounts(c, s, { error: refusalMessage(err) });
    }
    return c.redirect('/preferences/accounts?done=disabled', 303);
  });

  // §9 Revoke trusted devices
  get('/devices/revoke-this', (c, s) =>
    c.html(
      warningPage({
        ...opts(c, s),
        title: 'Revoke this device',
        heading: 'Revoke this device?',
        text: 'This web browser will no longer be trusted: the next sign-in here asks for a code again.',
        action: '/devices/revoke-this',
        button: 'Revoke',
        cancel: '/preferences/accounts',
      }),
    ),
  );
  post('/devices/revoke-this', async (c, s) => {
    const token = d.cookies.get(c, 'device');
    const revoked = token !== undefined && (await d.policy.revokeThisDevice(s.view.subject, token, s.token));
    d.cookies.clear(c, 'device');
    return c.redirect(`/preferences/accounts?done=${revoked ? 'device-revoked' : 'device-not-trusted'}`, 303);
  });
  get('/devices/revoke-others', (c, s) =>
    c.html(
      warningPage({
        ...opts(c, s),
        title: 'Revoke all other devices',
        heading: 'Revoke all other devices?',
        text: 'Every other trusted device (other web browsers, Outlook, mobile clients) will have to give a code again at the next sign-in.',
        action: '/devices/revoke-others',
        button: 'Revoke All',
        cancel: '/preferences/accounts',
      }),
    ),
  );
  post('/devices/revoke-others', async (c, s) => {
    const token = d.cookies.get(c, 'device');
    await d.policy.revokeTrustedDevices(s.view.subject, { sessionToken: s.token, ...(token === undefined ? {} : { exceptToken: token }) });
    return c.redirect('/preferences/accounts?done=devices-revoked', 303);
  });

  // §8 One-time codes
  const onOrBack = async (c: PortalContext, s: LoadedSession, h: () => Promise<Response>) => {
    try {
      return await h();
    } catch (err) {
      return accounts(c, s, { error: refusalMessage(err) });
    }
  };
  get('/codes', (c, s) =>
    onOrBack(c, s, async () => {
      const v = await d.policy.oneTimeCodesShow(s.view.subject);
      return c.html(codesPage({ csrf: c.get('csrf'), user: s.view.subject, unused: v.unused, usedCount: v.usedCount, notice: noticeOf(c) }));
    }),
  );
  get('/codes/print', (c, s) =>
    onOrBack(c, s, async () => c.html(codesPrintPage({ csrf: c.get('csrf'), user: s.view.subject, unused: (await d.policy.oneTimeCodesShow(s.view.subject)).unused }))),
  );
  post('/codes/regenerate', (c, s) =>
    onOrBack(c, s, async () => {
      await d.policy.oneTimeCodesRegenerate(s.view.subject);
      return c.redirect('/codes?done=regenerated', 303);
    }),
  );

  // §7 Revoke an application code (adding one: app-code-routes.ts)
  post('/apps/revoke', async (c, s) => {
    try {
      await d.policy.appCodeRevoke(s.view.subject, field(c, 'name'));
    } catch (err) {
      return accounts(c, s, { error: refusalMessage(err) });
    }
    return c.redirect('/preferences/accounts?done=app-revoked', 303);
  });
}
