import { randomBytes } from 'node:crypto';
import type { AdvertisedService, ClientSettings } from '../../config/client-settings.js';
import { appLoginName } from './client-address.js';
import { xmlText } from './xml-text.js';

const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
/** The one response schema answered: Outlook's POX settings (not ActiveSync's mobilesync). */
export const OUTLOOK_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** What an Outlook autodiscover request asks: the address, and the response schema it accepts. */
export interface AutodiscoverRequest {
  email: string;
  schema: string | null;
}

/**
 * The address and schema of a POX request body (`<Autodiscover><Request><EMailAddress>`).
 * Read with two bounded patterns, not an XML parser: nothing in the body is resolved (no
 * entities, no DTD), and the body is capped by the portal. Null when there is no address.
 */
export function parseAutodiscoverRequest(body: string): AutodiscoverRequest | null {
  const email = /<(?:\w+:)?EMailAddress>\s*([^<\s]{3,254})\s*<\/(?:\w+:)?EMailAddress>/i.exec(body)?.[1];
  if (!email || !/^[^@\s]+@[A-Za-z0-9.-]+$/.test(email)) return null;
  const schema = /<(?:\w+:)?AcceptableResponseSchema>\s*([^<\s]{1,200})\s*<\/(?:\w+:)?AcceptableResponseSchema>/i.exec(body)?.[1] ?? null;
  return { email: email.toLowerCase(), schema };
}

/** Outlook's POX answer: one <Protocol> per advertised service; SSL = implicit TLS, TLS = STARTTLS. */
export function autodiscoverXml(s: ClientSettings, email: string): string {
  const login = appLoginName(s, email);
  const protocol = (svc: AdvertisedService): string => `      <Protocol>
        <Type>${svc.protocol.toUpperCase()}</Type>
        <Server>${xmlText(svc.host)}</Server>
        <Port>${svc.port}</Port>
        <LoginName>${xmlText(login)}</LoginName>
        <DomainRequired>off</DomainRequired>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>${svc.security === 'tls' ? 'SSL' : 'TLS'}</Encryption>
        <AuthRequired>on</AuthRequired>
${svc.protocol === 'smtp' ? '        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n' : ''}      </Protocol>
`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_SCHEMA}">
    <User>
      <DisplayName>${xmlText(email)}</DisplayName>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${s.services.map(protocol).join('')}    </Account>
  </Response>
</Autodiscover>
`;
}

/** Autodiscover's own error answer (600 Invalid Request, 603 provider unavailable ...). */
export function autodiscoverError(code: 600 | 603, message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="${randomBytes(4).readUInt32BE(0)}">
      <ErrorCode>${code}</ErrorCode>
      <Message>${xmlText(message)}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}
