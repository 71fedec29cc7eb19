import type { Config } from './schema.js';

export type AdvertisedProtocol = 'imap' | 'pop3' | 'smtp';

/** One service as mail apps are told to reach it. */
export interface AdvertisedService {
  protocol: AdvertisedProtocol;
  host: string;
  port: number;
  /** 'tls': implicit TLS (993, 995, 465); 'starttls': plaintext port, STARTTLS first (143, 110, 587). */
  security: 'tls' | 'starttls';
}

/** What the portal advertises to mail apps, from [clients] (see clients-schema.ts). */
export interface ClientSettings {
  host: string;
  displayName: string;
  /** Mail domains answered for; empty: any. */
  domains: string[];
  loginName: 'address' | 'localpart';
  /** IMAP, POP3, SMTP in that order; only those not "off". */
  services: AdvertisedService[];
  /** Sign Apple profiles with the [tls] certificate. */
  signProfiles: boolean;
  /** [portal] public_url, where users get application codes. */
  portalUrl?: string;
}

/** [clients] resolved, or undefined when the section is absent (nothing advertised). */
export function clientSettings(config: Config): ClientSettings | undefined {
  const c = config.clients;
  if (!c) return undefined;
  const services: AdvertisedService[] = [];
  const add = (protocol: AdvertisedProtocol, port: number, security: 'tls' | 'starttls' | 'off') => {
    if (security !== 'off') services.push({ protocol, host: c.host, port, security });
  };
  add('imap', c.imap_port, c.imap_security);
  add('pop3', c.pop3_port, c.pop3_security);
  add('smtp', c.smtp_port, c.smtp_security);
  const portalUrl = config.portal?.public_url;
  return {
    host: c.host,
    displayName: c.display_name ?? c.host,
    domains: c.domains,
    loginName: c.login_name,
    services,
    signProfiles: c.sign_profiles,
    ...(portalUrl === undefined ? {} : { portalUrl }),
  };
}
