import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { parseHostPort } from '../core/host-port.js';
import { limits } from '../core/limits.js';
import type { serverTlsOptions } from '../core/server-tls.js';
import type { Logger } from '../core/logger.js';
import type { PasswordChecker, Policy } from '../policy/index.js';
import type { PortalDeps, PortalEnv } from './portal-context.js';
import type { ClientSettings } from '../config/client-settings.js';
import { ProfileOffers } from './client-setup/profile-offers.js';
import { opensslProfileSigner } from './client-setup/profile-signer.js';
import { accountRoutes } from './routes/account-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { appCodeRoutes } from './routes/app-code-routes.js';
import { clientSetupRoutes } from './routes/client-setup-routes.js';
import type { ExpiryChoice } from './views/apps-views.js';
import { setupRoutes } from './routes/setup-routes.js';
import { signInRoutes } from './routes/sign-in-routes.js';
import { PortalCookies } from './security/cookies.js';
import { CsrfGuard } from './security/csrf.js';
import { securityHeaders } from './security/headers.js';
import { sessionMiddleware } from './security/session.js';
import { PORTAL_CSS, PORTAL_JS } from './static/portal-assets.js';
import { html } from './views/html.js';
import { page } from './views/layout.js';
import { isTwostepError } from '../core/errors.js';
import { logSafeError } from '../core/log-safe-error.js';
import { BUSY_TEXT } from './routes/route-helpers.js';

export interface PortalSettings {
  listen: string;
  /** HTTPS with this certificate and key (PEM), else plain HTTP (behind a reverse proxy). */
  /** HTTPS: the certificate, key and the TLS settings of every twostep listener (core/server-tls.ts). */
  tls?: { cert: Buffer; key: Buffer } & ReturnType<typeof serverTlsOptions>;
  secureCookies: boolean;
  trustProxy: boolean;
  trustedDeviceDays: number;
  /** The key of the forms shown before sign-in (CsrfGuard); default: a new one for this process. */
  csrfKey?: Buffer;
  /** [clients]: autoconfig, autodiscover and the Apple profile; absent: none of them. */
  clients?: ClientSettings;
  /** The [tls] certificate and key files that sign Apple profiles ([clients] sign_profiles). */
  profileSigning?: { cert: string; key: string };
  /** [codes] default_expiry_days and max_expiry_days, for the "Add Application Code" form (default: never, no limit). */
  expiry?: ExpiryChoice;
}

export interface RunningPortal {
  port: number;
  /** A reload's certificate and key (HTTPS portals): connections from now on get them. */
  setTls(tls: NonNullable<PortalSettings['tls']>): void;
  close(): Promise<void>;
}

/** The web app: security headers, body cap, sessions and CSRF, then the user pages and the admin console. */
export function buildPortalApp(deps: PortalDeps, s: PortalSettings): Hono<PortalEnv> {
  const app = new Hono<PortalEnv>();
  app.use(securityHeaders({ hsts: s.tls !== undefined }));
  app.use(bodyLimit({ maxSize: limits.portalBodyBytes, onError: (c) => c.text('Request too large.', 413) }));
  app.get('/static/portal.js', (c) => c.body(PORTAL_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'max-age=300' }));
  app.get('/static/portal.css', (c) => c.body(PORTAL_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=300' }));
  clientSetupRoutes(app, deps.clients); // public: before the session middleware
  app.use(sessionMiddleware(deps, { trustProxy: s.trustProxy }));
  signInRoutes(app, deps);
  setupRoutes(app, deps);
  accountRoutes(app, deps);
  appCodeRoutes(app, deps);
  adminRoutes(app, deps);
  app.notFound((c) => c.html(page({ title: 'Not found', csrf: c.get('csrf') ?? '' }, html`<h1>Not found</h1><p><a href="/">Start page</a></p>`), 404));
  app.onError((err, c) => {
    if (isTwostepError(err, 'STORE_BUSY')) {
      // The database stayed locked past limits.storeBusyMs: nothing was written, the person may retry.
      deps.logger.warn({ event: 'portal.store-busy', path: c.req.path }, 'database locked: request refused for now');
      c.header('Retry-After', '5');
      return c.html(page({ title: 'Busy', csrf: '' }, html`<h1>Busy</h1><p>${BUSY_TEXT} <a href="/">Start page</a></p>`), 503);
    }
    // Never the request body or a secret: logSafeError keeps only wording known to be safe.
    deps.logger.error({ event: 'portal.error', path: c.req.path, ...logSafeError(err) }, 'portal request failed');
    return c.html(page({ title: 'Error', csrf: '' }, html`<h1>Something went wrong</h1><p>Please try again. <a href="/">Start page</a></p>`), 500);
  });
  return app;
}

export async function startPortal(o: { policy: Policy; checker: PasswordChecker; logger: Logger; settings: PortalSettings }): Promise<RunningPortal> {
  const s = o.settings;
  const signer = s.clients && s.profileSigning ? opensslProfileSigner(s.profileSigning.cert, s.profileSigning.key) : undefined;
  const deps: PortalDeps = {
    policy: o.policy,
    checker: o.checker,
    cookies: new PortalCookies(s.secureCookies),
    csrf: new CsrfGuard(s.csrfKey),
    logger: o.logger,
    trustedDeviceDays: s.trustedDeviceDays,
    offers: new ProfileOffers(),
    expiry: s.expiry ?? { defaultDays: 0, maxDays: 0 },
    ...(s.clients ? { clients: s.clients } : {}),
    ...(signer ? { signProfile: signer.sign } : {}),
  };
  const app = buildPortalApp(deps, s);
  const handle = getRequestListener(app.fetch);
  // The adapter answers its own faults; one that escaped it would be an unhandled rejection.
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      o.logger.error({ event: 'portal.error', ...logSafeError(err) }, 'portal request failed');
      res.destroy();
    });
  };
  const server: Server = s.tls ? createHttpsServer(s.tls, listener) : createHttpServer(listener);
  server.requestTimeout = limits.portalRequestMs;
  server.headersTimeout = limits.portalHeadersMs;
  server.keepAliveTimeout = limits.portalKeepAliveMs;
  const { host, port } = parseHostPort(s.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const sweep = setInterval(() => {
    o.policy.sweepWebSessions().catch((err: unknown) => {
      o.logger.error({ event: 'portal.session-sweep-failed', err: err instanceof Error ? err.message : String(err) });
    });
  }, limits.portalSessionSweepMs);
  sweep.unref();
  const bound = (server.address() as AddressInfo).port;
  o.logger.info({ event: 'portal.listening', listen: `${host}:${bound}`, tls: !!s.tls }, 'portal listening');
  return {
    port: bound,
    setTls: (tls) => {
      if (s.tls) (server as HttpsServer).setSecureContext(tls);
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        signer?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
