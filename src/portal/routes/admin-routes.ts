import type { Hono } from 'hono';
import { Secret } from '../../core/secret.js';
import type { PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { adminOverviewPage } from '../views/admin-overview-views.js';
import { adminConfirmPage, adminSignInPage } from '../views/admin-views.js';
import { adminAuditRoutes } from './admin-audit-routes.js';
import { adminGuard } from './admin-guard.js';
import { adminUserRoutes } from './admin-user-routes.js';
import { browserToken, noticeOf } from './route-helpers.js';

/** Guide §3, the admin console: sign-in (and the proof of a new authenticator), the overview, users, domains, the audit log. */
export function adminRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  const { get, post } = adminGuard(app);

  app.get('/admin/sign-in', (c) => {
    const s = c.get('admin');
    if (s) return c.redirect(s.view.stage === 'signed-in' ? '/admin' : '/admin/confirm', 303);
    return c.html(adminSignInPage({ csrf: c.get('csrf'), notice: noticeOf(c) }));
  });
  app.post('/admin/sign-in', async (c) => {
    const name = field(c, 'name').trim();
    const r = await d.policy.admins.signIn({
      name,
      password: new Secret(field(c, 'password')),
      code: field(c, 'code'),
      clientIp: c.get('clientIp'),
      browserToken: browserToken(c, d.cookies),
    });
    if (!r.ok) {
      const error = r.reason === 'throttled' ? 'Too many failed attempts. Try again later.' : 'The name, password or code is not correct.';
      return c.html(adminSignInPage({ csrf: c.get('csrf'), name, error }), r.reason === 'throttled' ? 429 : 401);
    }
    const old = c.get('admin');
    if (old) await d.policy.endWebSession(old.token);
    // A new key is not proven by one code: the session may only confirm it (a short life, see createWebSession).
    const { token } = await d.policy.createWebSession('admin', r.name, r.confirmed ? 'signed-in' : 'second-factor');
    d.cookies.set(c, 'admin', token);
    return c.redirect(r.confirmed ? '/admin' : '/admin/confirm', 303);
  });

  app.get('/admin/confirm', (c) => {
    const s = c.get('admin');
    if (!s) return c.redirect('/admin/sign-in', 303);
    if (s.view.stage === 'signed-in') return c.redirect('/admin', 303);
    return c.html(adminConfirmPage({ csrf: c.get('csrf'), admin: s.view.subject }));
  });
  app.post('/admin/confirm', async (c) => {
    const s = c.get('admin');
    if (!s) return c.redirect('/admin/sign-in?done=expired', 303);
    if (s.view.stage === 'signed-in') return c.redirect('/admin', 303);
    const r = await d.policy.console.confirmAdminTotp(s.view.subject, field(c, 'code'), c.get('clientIp'));
    if (!r.ok) {
      const error = r.reason === 'throttled' ? 'Too many wrong codes. Try again later.' : 'That code is not the next one of this key. Wait for a new code and try again.';
      return c.html(adminConfirmPage({ csrf: c.get('csrf'), admin: s.view.subject, error }), r.reason === 'throttled' ? 429 : 400);
    }
    // More privilege: a new token, so a token planted before is worthless.
    const next = await d.policy.rotateWebSession(s.token, 'admin', 'signed-in');
    if (!next) return c.redirect('/admin/sign-in?done=expired', 303);
    d.cookies.set(c, 'admin', next.token);
    return c.redirect('/admin', 303);
  });

  app.post('/admin/sign-out', async (c) => {
    const s = c.get('admin');
    if (s) await d.policy.endWebSession(s.token);
    d.cookies.clear(c, 'admin');
    return c.redirect('/admin/sign-in?done=signed-out', 303);
  });
  post('/admin/sign-out-all', async (c, s) => {
    await d.policy.endAllWebSessions('admin', s.view.subject, c.get('clientIp'));
    d.cookies.clear(c, 'admin');
    return c.redirect('/admin/sign-in?done=signed-out-all', 303);
  });

  get('/admin', async (c, s) =>
    c.html(adminOverviewPage({ csrf: c.get('csrf'), admin: s.view.subject, overview: await d.policy.console.overview(), notice: noticeOf(c) })),
  );
  adminUserRoutes(app, d, { get, post });
  adminAuditRoutes(app, d, { get, post });
}
