import type { Context, Hono } from 'hono';
import type { ClientSettings } from '../../config/client-settings.js';
import { servesDomain } from '../client-setup/client-address.js';
import { domainOf } from '../../core/mail-address.js';
import type { PortalEnv } from '../portal-context.js';
import { autoconfigXml } from '../client-setup/autoconfig.js';
import { autodiscoverError, autodiscoverXml, OUTLOOK_SCHEMA, parseAutodiscoverRequest } from '../client-setup/autodiscover.js';

const XML = { 'Content-Type': 'application/xml; charset=utf-8' };

/**
 * What mail apps fetch by themselves to set an account up, from [clients]: Thunderbird's
 * autoconfig (config-v1.1.xml at both of its paths, ?emailaddress=) and Outlook's POX
 * autodiscover (POST /autodiscover/autodiscover.xml). Public (no session, no CSRF: they change
 * nothing and hold no secret), so they are registered before the session middleware. Without
 * [clients] they are not registered: 404, as before.
 */
export function clientSetupRoutes(app: Hono<PortalEnv>, clients: ClientSettings | undefined): void {
  if (!clients) return;
  const autoconfig = (c: Context<PortalEnv>) => {
    const email = c.req.query('emailaddress')?.trim().toLowerCase();
    if (email !== undefined && email !== '') {
      if (!/^[^@\s]+@[A-Za-z0-9.-]+$/.test(email) || email.length > 254) return c.text('emailaddress must be an address', 400);
      if (!servesDomain(clients, email)) return c.text('Not found', 404);
    }
    const domain = (email && domainOf(email)) || clients.domains[0] || clients.host;
    return c.body(autoconfigXml(clients, domain), 200, XML);
  };
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', autoconfig);
  app.get('/mail/config-v1.1.xml', autoconfig);

  const autodiscover = async (c: Context<PortalEnv>) => {
    const req = parseAutodiscoverRequest(await c.req.text());
    if (!req) return c.body(autodiscoverError(600, 'Invalid Request'), 400, XML);
    if (req.schema !== null && req.schema !== OUTLOOK_SCHEMA) return c.body(autodiscoverError(603, 'Provider is not available'), 200, XML);
    if (!servesDomain(clients, req.email)) return c.text('Not found', 404);
    return c.body(autodiscoverXml(clients, req.email), 200, XML);
  };
  // Outlook spells the path both ways.
  app.post('/autodiscover/autodiscover.xml', autodiscover);
  app.post('/Autodiscover/Autodiscover.xml', autodiscover);
}
