import { isIP } from 'node:net';
import type { AdvertisedProtocol, ClientSettings } from '../config/client-settings.js';

/** RFC 6186 / RFC 8314 service names: [implicit TLS, STARTTLS] per protocol. */
const SRV_NAMES: Record<AdvertisedProtocol, [string, string]> = {
  imap: ['_imaps._tcp', '_imap._tcp'],
  pop3: ['_pop3s._tcp', '_pop3._tcp'],
  smtp: ['_submissions._tcp', '_submission._tcp'],
};

/** The portal's host and HTTPS port from [portal] public_url (default: the mail host, 443). */
function portalEndpoint(s: ClientSettings): { host: string; port: number } {
  if (s.portalUrl) {
    const u = new URL(s.portalUrl);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
  }
  return { host: s.host, port: 443 };
}

/**
 * The DNS records that let mail apps find the services by themselves, in zone-file form, for
 * each of [clients] domains (a placeholder when none is listed): RFC 6186 SRV records (a service
 * not offered gets the "not available" target "."), the autoconfig. and autodiscover. names
 * pointing at the portal, and Outlook's _autodiscover SRV record. Comment lines start with ";".
 */
export function dnsRecords(s: ClientSettings): string[] {
  const domains = s.domains.length > 0 ? s.domains : ['example.com'];
  const portal = portalEndpoint(s);
  const pointer = (name: string): string =>
    isIP(portal.host) === 4 ? `${name} 3600 IN A ${portal.host}` : isIP(portal.host) === 6 ? `${name} 3600 IN AAAA ${portal.host}` : `${name} 3600 IN CNAME ${portal.host}.`;
  const out: string[] = [];
  if (s.domains.length === 0) out.push('; [clients] domains is empty: replace example.com with each of your mail domains');
  for (const d of domains) {
    out.push(`; mail apps for @${d}`);
    for (const protocol of ['imap', 'pop3', 'smtp'] as const) {
      const svc = s.services.find((x) => x.protocol === protocol);
      const [tlsName, starttlsName] = SRV_NAMES[protocol];
      for (const [name, security] of [[tlsName, 'tls'], [starttlsName, 'starttls']] as const) {
        const on = svc?.security === security ? svc : undefined;
        out.push(on ? `${name}.${d}. 3600 IN SRV 0 1 ${on.port} ${on.host}.` : `${name}.${d}. 3600 IN SRV 0 0 0 .`);
      }
    }
    out.push(pointer(`autoconfig.${d}.`), pointer(`autodiscover.${d}.`));
    if (isIP(portal.host) === 0) out.push(`_autodiscover._tcp.${d}. 3600 IN SRV 0 0 ${portal.port} ${portal.host}.`);
  }
  out.push(`; the portal answers them over HTTPS: its certificate must also name autoconfig.<domain> and autodiscover.<domain>`);
  return out;
}
