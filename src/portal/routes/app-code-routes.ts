import type { Hono } from 'hono';
import { mailAddressOf } from '../../core/mail-address.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import { mobileconfigXml, profileServices } from '../client-setup/mobileconfig.js';
import type { PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { field } from '../portal-context.js';
import { addAppPage, passcodePage, profileGonePage, SCOPE_NAMES, type AddAppForm } from '../views/apps-views.js';
import { guardedRoutes, refusalMessage, signedInUser } from './route-helpers.js';

/** The form's choices: the ticked protocols (undefined when the form had no boxes: all) and the lifetime. */
function formOf(c: PortalContext): AddAppForm & { expiresDays?: number } {
  const form: AddAppForm & { expiresDays?: number } = { name: field(c, 'name') };
  if (field(c, 'scopes_shown') === '1') form.scopes = Object.keys(SCOPE_NAMES).filter((s) => field(c, `scope_${s}`) === '1');
  const expires = field(c, 'expires');
  if (expires === 'never') form.expiresDays = 0;
  else if (/^\d{1,4}$/.test(expires)) form.expiresDays = Number(expires);
  if (expires !== '') form.expires = expires;
  return form;
}

/** A file name for the profile: the application's name, letters and digits only. */
const profileFileName = (name: string) => `${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'mail'}.mobileconfig`;

/**
 * Guide §7, "Add Application Code", with what it may do (protocols, lifetime), and on the result
 * page, once, like the code: "Set up iPhone / iPad / Mac", an Apple profile with the new code,
 * downloadable once by this session (ProfileOffers), signed with the [tls] certificate.
 */
export function appCodeRoutes(app: Hono<PortalEnv>, d: PortalDeps): void {
  const { get, post } = guardedRoutes(app, signedInUser, '/sign-in');

  get('/apps/new', (c, s) => c.html(addAppPage({ csrf: c.get('csrf'), user: s.view.subject, expiry: d.expiry })));

  post('/apps', async (c, s) => {
    const user = s.view.subject;
    const form = formOf(c);
    let added;
    try {
      added = await d.policy.appCodeAdd(user, form.name ?? '', {
        ...(form.scopes === undefined ? {} : { scopes: form.scopes }),
        ...(form.expiresDays === undefined ? {} : { expiresDays: form.expiresDays }),
      });
    } catch (err) {
      return c.html(addAppPage({ csrf: c.get('csrf'), user, expiry: d.expiry, form, error: refusalMessage(err) }), 400);
    }
    const clients = d.clients;
    const services = clients ? profileServices(clients, added.scopes) : null;
    const address = mailAddressOf(user, clients?.domains[0]);
    const profileUrl =
      services && address
        ? `/apps/profile/${d.offers.put({ user, codeName: added.name, code: added.code, scopes: added.scopes }, s.token)}`
        : undefined;
    return c.html(
      passcodePage({
        csrf: c.get('csrf'),
        user,
        name: added.name,
        code: added.code,
        scopes: added.scopes,
        expiresAt: added.expiresAt,
        services: clients?.services.filter((x) => added.scopes.includes(x.protocol)) ?? [],
        ...(profileUrl ? { profileUrl } : {}),
      }),
    );
  });

  get('/apps/profile/:token', async (c, s) => {
    const user = s.view.subject;
    const offer = d.offers.take(c.req.param('token') ?? '', user, s.token);
    const clients = d.clients;
    const services = offer && clients ? profileServices(clients, offer.scopes) : null;
    const address = mailAddressOf(user, clients?.domains[0]);
    if (!offer || !clients || !services || !address) return c.html(profileGonePage({ csrf: c.get('csrf'), user }), 410);
    const xml = Buffer.from(mobileconfigXml({ settings: clients, services, address, login: user, code: offer.code, codeName: offer.codeName }), 'utf8');
    let body: Buffer = xml;
    if (d.signProfile) {
      try {
        body = await d.signProfile(xml);
      } catch (err) {
        d.logger.warn({ event: LogEvent.profileSignFailed, ...logSafeError(err) }, 'Apple profile sent unsigned');
      }
    }
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': 'application/x-apple-aspen-config',
      'Content-Disposition': `attachment; filename="${profileFileName(offer.codeName)}"`,
    });
  });
}
