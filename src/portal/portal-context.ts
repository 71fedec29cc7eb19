import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Logger } from '../core/logger.js';
import type { ClientSettings } from '../config/client-settings.js';
import type { PasswordChecker, Policy, WebSessionView } from '../policy/index.js';
import type { ProfileOffers } from './client-setup/profile-offers.js';
import type { ProfileSigner } from './client-setup/profile-signer.js';
import type { ExpiryChoice } from './views/apps-views.js';
import type { PortalCookies } from './security/cookies.js';
import type { CsrfGuard } from './security/csrf.js';

/** A session loaded for this request: the cookie's token and what the policy says about it. */
export interface LoadedSession {
  token: string;
  view: WebSessionView;
}

export type PortalEnv = {
  Bindings: HttpBindings;
  Variables: {
    clientIp: string;
    user: LoadedSession | null;
    admin: LoadedSession | null;
    /** The token forms rendered by this request carry. */
    csrf: string;
    /** The parsed form of a POST (after the CSRF check). */
    form: Record<string, string>;
  };
};

export type PortalContext = Context<PortalEnv>;

/** What every route needs; built once by startPortal. */
export interface PortalDeps {
  policy: Policy;
  checker: PasswordChecker;
  cookies: PortalCookies;
  csrf: CsrfGuard;
  logger: Logger;
  trustedDeviceDays: number;
  /** What mail apps are told ([clients]); absent: no autoconfig, no Apple profile. */
  clients?: ClientSettings;
  /** Apple profiles waiting for their one download. */
  offers: ProfileOffers;
  /** Signs Apple profiles ([tls] certificate); absent: they go out unsigned. */
  signProfile?: ProfileSigner;
  /** The lifetimes the "Add Application Code" form offers. */
  expiry: ExpiryChoice;
}

/** A form field as a string ('' when absent or a file). */
export function field(c: PortalContext, name: string): string {
  const v = c.get('form')[name];
  return typeof v === 'string' ? v : '';
}
