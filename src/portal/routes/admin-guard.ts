import type { Hono } from 'hono';
import type { LoadedSession, PortalContext, PortalEnv } from '../portal-context.js';
import type { SessionHandler } from './route-helpers.js';

/**
 * GET and POST routes for a signed-in admin. A session that signed in with a new authenticator
 * key (stage 'second-factor') reaches only /admin/confirm: everything else, POSTs included, is
 * sent there and does nothing; no session at all goes to the sign-in page.
 */
export function adminGuard(app: Hono<PortalEnv>) {
  const route = (method: 'get' | 'post') => (path: string, h: SessionHandler) =>
    app[method](path, (c) => {
      const s = c.get('admin');
      if (s?.view.stage === 'signed-in') return h(c, s);
      if (s) return c.redirect('/admin/confirm', 303);
      return c.redirect(method === 'get' ? '/admin/sign-in' : '/admin/sign-in?done=expired', 303);
    });
  return { get: route('get'), post: route('post') };
}

export type AdminRoutes = ReturnType<typeof adminGuard>;

/** Who does a console action, from where (every action is audited with it). */
export const actorOf = (c: PortalContext, s: LoadedSession) => ({ admin: s.view.subject, ip: c.get('clientIp') });
