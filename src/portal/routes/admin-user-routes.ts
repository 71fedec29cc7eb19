import type { Hono } from 'hono';
import { ADMIN_POLICIES, ROLLOUT_STATES, type AdminPolicy, type RolloutState, type UserQuery } from '../../policy/index.js';
import type { LoadedSession, PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { FOLLOW_DOMAIN, queryString } from '../views/admin-labels.js';
import { adminDomainsPage, adminUsersPage } from '../views/admin-users-views.js';
import { html } from '../views/html.js';
import { warningPage } from '../views/layout.js';
import { actorOf, type AdminRoutes } from './admin-guard.js';
import { noticeOf, refusalMessage } from './route-helpers.js';

const QUERY_KEYS = ['q', 'state', 'domain', 'after', 'before'] as const;

/** The list's filters and position from `get(key)` (the URL, or a form's back_* fields); unknown states are dropped. */
function userQuery(get: (k: string) => string | undefined): UserQuery {
  const q: Record<string, string | undefined> = {};
  for (const k of QUERY_KEYS) {
    const v = get(k)?.trim();
    q[k] = v === undefined || v === '' ? undefined : v.slice(0, 512);
  }
  const state = ROLLOUT_STATES.includes(q.state as RolloutState) ? (q.state as RolloutState) : undefined;
  return { q: q.q, state, domain: q.domain, after: q.after, before: q.before };
}

/** Users (search, filters, pages; allow / require / disallow / domain default; reset) and domains. */
export function adminUserRoutes(app: Hono<PortalEnv>, d: PortalDeps, { get, post }: AdminRoutes): void {
  const users = async (c: PortalContext, s: LoadedSession, query: UserQuery, extra: { notice?: string; error?: string } = {}) => {
    let result;
    try {
      result = await d.policy.console.findUsers(query);
    } catch (err) {
      const error = refusalMessage(err);
      return c.html(adminUsersPage({ csrf: c.get('csrf'), admin: s.view.subject, query: {}, result: { users: [], next: null, prev: null }, error }), 400);
    }
    return c.html(adminUsersPage({ csrf: c.get('csrf'), admin: s.view.subject, query, result, notice: extra.notice ?? noticeOf(c), error: extra.error }));
  };
  /** Back to the list where the form was sent from. */
  const backTo = (c: PortalContext, done: string) => {
    const { q, state, domain, after, before } = userQuery((k) => c.get('form')[`back_${k}`]);
    return c.redirect(`/admin/users${queryString({ q, state, domain, after, before, done })}`, 303);
  };

  get('/admin/users', (c, s) => users(c, s, userQuery((k) => c.req.query(k))));
  post('/admin/users/policy', async (c, s) => {
    const policy = field(c, 'policy');
    const back = userQuery((k) => c.get('form')[`back_${k}`]);
    try {
      if (policy === FOLLOW_DOMAIN) await d.policy.console.followDomain(field(c, 'user'), actorOf(c, s));
      else if (ADMIN_POLICIES.includes(policy as AdminPolicy)) await d.policy.consoleSetPolicy(actorOf(c, s), field(c, 'user'), policy as AdminPolicy);
      else return await users(c, s, back, { error: 'Choose allowed, required or not allowed.' });
    } catch (err) {
      return users(c, s, back, { error: refusalMessage(err) });
    }
    return backTo(c, 'policy-set');
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
        cancel: `/admin/users${queryString({ q: user })}`,
        fields: html`<input type="hidden" name="user" value="${user}">
<label class="check"><input type="checkbox" name="revoke_app_codes" value="1"> Also revoke all application codes</label>`,
      }),
    );
  });
  post('/admin/reset', async (c, s) => {
    const user = field(c, 'user');
    try {
      await d.policy.resetUser(actorOf(c, s), user, { revokeAppCodes: field(c, 'revoke_app_codes') === '1' });
    } catch (err) {
      return users(c, s, {}, { error: refusalMessage(err) });
    }
    return c.redirect(`/admin/users${queryString({ q: user.trim().toLowerCase(), done: 'reset' })}`, 303);
  });

  const domains = async (c: PortalContext, s: LoadedSession, extra: { notice?: string; error?: string } = {}, status: 200 | 400 = 200) =>
    c.html(
      adminDomainsPage({ csrf: c.get('csrf'), admin: s.view.subject, domains: await d.policy.console.listDomains(), notice: extra.notice ?? noticeOf(c), error: extra.error }),
      status,
    );
  get('/admin/domains', (c, s) => domains(c, s));
  post('/admin/domains/policy', async (c, s) => {
    const policy = field(c, 'policy');
    if (policy !== 'none' && !ADMIN_POLICIES.includes(policy as AdminPolicy)) return domains(c, s, { error: 'Choose a policy.' }, 400);
    try {
      await d.policy.console.setDomainPolicy(field(c, 'domain'), policy === 'none' ? null : (policy as AdminPolicy), actorOf(c, s));
    } catch (err) {
      return domains(c, s, { error: refusalMessage(err) }, 400);
    }
    return c.redirect('/admin/domains?done=policy-set', 303);
  });
}
