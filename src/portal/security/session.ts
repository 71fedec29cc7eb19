import type { MiddlewareHandler } from 'hono';
import type { PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { html } from '../views/html.js';
import { page } from '../views/layout.js';
import { CsrfGuard } from './csrf.js';

const formExpiredPage = (csrf: string): string =>
  page({ title: 'Form expired', csrf }, html`<h1>This form has expired</h1><p>Go back, reload the page and try again, or go to the <a href="/">start page</a>.</p>`);

/**
 * For every request: the client IP, the user's and the admin's session (from their cookies, via
 * the policy), the CSRF token for forms; for every POST: the form, refused with 403 unless it
 * carries the right token.
 */
export function sessionMiddleware(deps: PortalDeps, opts: { trustProxy: boolean }): MiddlewareHandler<PortalEnv> {
  return async (c, next) => {
    c.set('clientIp', clientIp(c, opts.trustProxy));
    const load = async (area: 'user' | 'admin') => {
      const token = deps.cookies.get(c, area === 'user' ? 'session' : 'admin');
      const view = token === undefined ? null : await deps.policy.readWebSession(token, area);
      return token !== undefined && view ? { token, view } : null;
    };
    const isAdminPath = c.req.path === '/admin' || c.req.path.startsWith('/admin/');
    c.set('user', isAdminPath ? null : await load('user'));
    c.set('admin', isAdminPath ? await load('admin') : null);
    const session = isAdminPath ? c.get('admin') : c.get('user');
    let expected: string;
    if (session) {
      expected = session.view.csrfToken;
    } else {
      let pre = deps.cookies.get(c, 'pre');
      if (pre === undefined) {
        pre = deps.csrf.newPreCookie();
        deps.cookies.set(c, 'pre', pre);
      }
      expected = deps.csrf.preToken(pre);
    }
    c.set('csrf', expected);
    c.set('form', {});
    if (c.req.method === 'POST') {
      const type = c.req.header('content-type') ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded')) return c.text('Forms only.', 415);
      const body = await c.req.parseBody();
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
      if (!CsrfGuard.equal(form.csrf ?? '', expected)) {
        // The browser still holds a cookie of a session that has ended: say so at the sign-in page.
        if (!session && deps.cookies.get(c, isAdminPath ? 'admin' : 'session') !== undefined) {
          return c.redirect(`${isAdminPath ? '/admin' : ''}/sign-in?done=expired`, 303);
        }
        deps.logger.warn({ event: 'portal.csrf-refused', path: c.req.path, ip: c.get('clientIp') }, 'form without a valid CSRF token');
        return c.html(formExpiredPage(expected), 403);
      }
      c.set('form', form);
    } else if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return c.text('Method not allowed.', 405);
    }
    // What the policy audits while serving this request is marked as the portal's, from this address.
    await deps.policy.withAuditOrigin({ protocol: 'portal', ip: c.get('clientIp') }, () => next());
  };
}

/** The socket's address; behind a trusted reverse proxy, the last X-Forwarded-For hop. */
function clientIp(c: PortalContext, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = c.req.header('x-forwarded-for');
    const last = xff?.split(',').pop()?.trim();
    if (last && last.length <= 64) return last;
  }
  const addr = c.env.incoming.socket.remoteAddress ?? 'unknown';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
