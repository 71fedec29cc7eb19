import { randomUUID } from 'node:crypto';
import type { AdvertisedService, ClientSettings } from '../../config/client-settings.js';
import { xmlText } from './xml-text.js';

/** The incoming (IMAP preferred, else POP3) and outgoing (SMTP) services a profile sets up. */
export interface ProfileServices {
  incoming: AdvertisedService;
  outgoing: AdvertisedService;
}

/**
 * The services an Apple profile can set up for a code limited to `scopes`: IMAP (else POP3) and
 * SMTP, each advertised by [clients] and allowed to the code; null when either is missing (an
 * Apple mail account needs both, and a password that fails one of them would only confuse).
 */
export function profileServices(s: ClientSettings, scopes: readonly string[]): ProfileServices | null {
  const find = (p: string) => s.services.find((x) => x.protocol === p && scopes.includes(p));
  const incoming = find('imap') ?? find('pop3');
  const outgoing = find('smtp');
  return incoming && outgoing ? { incoming, outgoing } : null;
}

export interface ProfileInput {
  settings: ClientSettings;
  services: ProfileServices;
  /** The user's mail address (EmailAddress) ... */
  address: string;
  /** ... and the name they sign in with (the portal's, which the mail server knows). */
  login: string;
  /** The new application code: the password of both servers. */
  code: string;
  codeName: string;
}

const str = (key: string, value: string) => `\t\t\t<key>${key}</key>\n\t\t\t<string>${xmlText(value)}</string>\n`;
const int = (key: string, value: number) => `\t\t\t<key>${key}</key>\n\t\t\t<integer>${Math.trunc(value)}</integer>\n`;
const bool = (key: string, value: boolean) => `\t\t\t<key>${key}</key>\n\t\t\t<${value ? 'true' : 'false'}/>\n`;
/** "mail.example.com" → "com.example.mail" (profile identifiers are reverse-DNS). */
const reverseDns = (host: string) => host.split('.').reverse().join('.');

/**
 * An Apple configuration profile (.mobileconfig, a property list) with one email account
 * payload (com.apple.mail.managed): IMAP or POP3 plus SMTP at [clients]' public names and
 * ports, SSL on, the user's address, and the new code as the password of both servers. It
 * holds the code: it is made once, for the page that shows the code (see ProfileOffers).
 */
export function mobileconfigXml(p: ProfileInput): string {
  const { incoming, outgoing } = p.services;
  const id = reverseDns(p.settings.host);
  const accountUuid = randomUUID().toUpperCase();
  const profileUuid = randomUUID().toUpperCase();
  const account =
    str('EmailAccountDescription', `${p.address} (${p.codeName})`) +
    str('EmailAccountName', p.address) +
    str('EmailAccountType', incoming.protocol === 'imap' ? 'EmailTypeIMAP' : 'EmailTypePOP') +
    str('EmailAddress', p.address) +
    str('IncomingMailServerAuthentication', 'EmailAuthPassword') +
    str('IncomingMailServerHostName', incoming.host) +
    int('IncomingMailServerPortNumber', incoming.port) +
    bool('IncomingMailServerUseSSL', true) +
    str('IncomingMailServerUsername', p.login) +
    str('IncomingPassword', p.code) +
    str('OutgoingMailServerAuthentication', 'EmailAuthPassword') +
    str('OutgoingMailServerHostName', outgoing.host) +
    int('OutgoingMailServerPortNumber', outgoing.port) +
    bool('OutgoingMailServerUseSSL', true) +
    str('OutgoingMailServerUsername', p.login) +
    str('OutgoingPassword', p.code) +
    bool('OutgoingPasswordSameAsIncomingPassword', true) +
    str('PayloadDescription', `Mail account ${p.address} with the application code "${p.codeName}"`) +
    str('PayloadDisplayName', `Mail: ${p.address}`) +
    str('PayloadIdentifier', `${id}.twostep.mail.${accountUuid}`) +
    str('PayloadType', 'com.apple.mail.managed') +
    str('PayloadUUID', accountUuid) +
    int('PayloadVersion', 1) +
    bool('PreventAppSheet', false) +
    bool('PreventMove', false) +
    bool('SMIMEEnabled', false);
  const outer = (text: string) => text.replace(/^\t\t/gm, '');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
${account}		</dict>
	</array>
${outer(
  str('PayloadDescription', `Sets up ${p.address} in Mail with the application code "${p.codeName}".`) +
    str('PayloadDisplayName', `${p.settings.displayName}: ${p.address}`) +
    str('PayloadIdentifier', `${id}.twostep.${profileUuid}`) +
    str('PayloadOrganization', p.settings.displayName) +
    bool('PayloadRemovalDisallowed', false) +
    str('PayloadType', 'Configuration') +
    str('PayloadUUID', profileUuid) +
    int('PayloadVersion', 1),
)}</dict>
</plist>
`;
}
