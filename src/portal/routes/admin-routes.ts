import type { Hono } from 'hono';
import { Secret } from '../../core/secret.js';
import type { AdminPolicy } from '../../policy/index.js';
import type { LoadedSession, PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { adminAuditPage, adminSignInPage, adminUsersPage } from '../views/admin-views.js';
import { html } from '../views/html.js';
import { warningPage } from '../views/layout.js';
import { guardedRoutes, noticeOf, refusalMessage, signedInAdmin } from './route-helpers.js';

const POLICIES: readonly string[] = ['allowed', 'required', 'disallowed'];

/** Guide §3, the admin console: users and their two-step state, allow / require / disallow, reset, audit log. */
export function adminRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  const { get, post } = guardedRoutes(app, signedInAdmin, '/admin/sign-in');
  const actor = (c: PortalContext, s: LoadedSession) => ({ admin: s.view.subject, ip: c.get('clientIp') });
  const users = async (c: PortalContext, s: LoadedSession, extra: { notice?: string; error?: string } = {}) =>
    c.html(adminUsersPage({ csrf: c.get('csrf'), admin: s.view.subject, users: await d.policy.listUsers(), notice: extra.notice ?? noticeOf(c), error: extra.error }));

  app.get('/admin/sign-in', (c) =>
    signedInAdmin(c) ? c.redirect('/admin', 303) : c.html(adminSignInPage({ csrf: c.get('csrf'), notice: noticeOf(c) })),
  );
  app.post('/admin/sign-in', async (c) => {
    const name = field(c, 'name').trim();
    const r = await d.policy.adminSignIn({ name, password: new Secret(field(c, 'password')), code: field(c, 'code'), clientIp: c.get('clientIp') });
    if (!r.ok) {
      const error = r.reason === 'throttled' ? 'Too many failed attempts. Try again later.' : 'The name, password or code is not correct.';
      return c.html(adminSignInPage({ csrf: c.get('csrf'), name, error }), r.reason === 'throttled' ? 429 : 401);
    }
    const old = c.get('admin');
    if (old) await d.policy.endWebSession(old.token);
    const { token } = await d.policy.createWebSession('admin', r.name, 'signed-in');
    d.cookies.set(c, 'admin', token);
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

  get('/admin', (c, s) => users(c, s));
  post('/admin/users/policy', async (c, s) => {
    const policy = field(c, 'policy');
    if (!POLICIES.includes(policy)) return users(c, s, { error: 'Choose allowed, required or not allowed.' });
    try {
      await d.policy.consoleSetPolicy(actor(c, s), field(c, 'user'), policy as AdminPolicy);
    } catch (err) {
      return users(c, s, { error: refusalMessage(err) });
    }
    return c.redirect('/admin?done=policy-set', 303);
  });

  get('/admin/reset', (c, s) => {
    const user = c.req.query('user') ?? '';
    return c.html(
      warningPage({
        title: 'Reset two-step authentication',
        csrf: c.get('csrf'),
        signedInAs: { name: s.view.subject, area: 'admin' },
        heading: `Reset two-step authentication of ${user}?`,
        text: "For a lost phone: the authenticator, one-time codes and trusted devices are removed and two-step authentication is off until the user sets it up again. Application codes stay and work again once it is back on, unless you revoke them too.",
        action: '/admin/reset',
        button: 'Reset',
        cancel: '/admin',
        fields: html`<input type="hidden" name="user" value="${user}">
<label class="check"><input type="checkbox" name="revoke_app_codes" value="1"> Also revoke all application codes</label>`,
      }),
    );
  });
  post('/admin/reset', async (c, s) => {
    try {
      await d.policy.resetUser(actor(c, s), field(c, 'user'), { revokeAppCodes: field(c, 'revoke_app_codes') === '1' });
    } catch (err) {
      return users(c, s, { error: refusalMessage(err) });
    }
    return c.redirect('/admin?done=reset', 303);
  });

  get('/admin/audit', async (c, s) => {
    const q = (k: string) => {
      const v = c.req.query(k);
      return v === undefined || v.trim() === '' ? undefined : v.trim();
    };
    const filter = { user: q('user'), event: q('event'), protocol: q('protocol'), limit: Number(q('limit') ?? 200) || 200 };
    return c.html(adminAuditPage({ csrf: c.get('csrf'), admin: s.view.subject, filter, entries: await d.policy.auditSearch(filter) }));
  });
}
