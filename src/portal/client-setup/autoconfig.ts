import type { AdvertisedService, ClientSettings } from '../../config/client-settings.js';
import { xmlText } from './xml-text.js';

/** Thunderbird's names for a service's security. */
const SOCKET: Record<AdvertisedService['security'], string> = { tls: 'SSL', starttls: 'STARTTLS' };

/**
 * Thunderbird's autoconfig answer (config-v1.1.xml, the "clientConfig" format of its ISPDB):
 * every advertised service, with the user name as a placeholder Thunderbird fills in, and the
 * portal as the documentation page (where the application code comes from). No secret in it.
 */
export function autoconfigXml(s: ClientSettings, domain: string): string {
  const login = s.loginName === 'localpart' ? '%EMAILLOCALPART%' : '%EMAILADDRESS%';
  const server = (svc: AdvertisedService): string => {
    const tag = svc.protocol === 'smtp' ? 'outgoingServer' : 'incomingServer';
    return `    <${tag} type="${svc.protocol}">
      <hostname>${xmlText(svc.host)}</hostname>
      <port>${svc.port}</port>
      <socketType>${SOCKET[svc.security]}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${login}</username>
    </${tag}>
`;
  };
  const doc = s.portalUrl
    ? `    <documentation url="${xmlText(s.portalUrl)}">
      <descr lang="en">With two-step authentication on, sign in with an application code from the web portal, not your password.</descr>
    </documentation>
`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${xmlText(domain)}">
${(s.domains.length > 0 ? s.domains : [domain]).map((d) => `    <domain>${xmlText(d)}</domain>\n`).join('')}    <displayName>${xmlText(s.displayName)}</displayName>
    <displayShortName>${xmlText(s.displayName.slice(0, 32))}</displayShortName>
${s.services.map(server).join('')}${doc}  </emailProvider>
</clientConfig>
`;
}
