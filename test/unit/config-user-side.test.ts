import { describe, expect, it } from 'vitest';
import { clientSettings } from '../../src/config/client-settings.js';
import { parseConfig } from '../../src/config/load-config.js';
import { dnsRecords } from '../../src/doctor/dns-records.js';
import { exampleConfigText, withSectionUncommented } from '../helpers/example-config.js';

const MINIMAL = '[backend]\nmaster_user = "proxymaster"\nmaster_password = "pw"\n';
const WITH_URL = `${MINIMAL}[portal]\npublic_url = "https://mail.example.com/"\n`;

describe('config: [clients], [notify], [codes] lifetimes, [portal] public_url', () => {
  it('are off without their sections; codes never expire by default', () => {
    const c = parseConfig(MINIMAL);
    expect(c.clients).toBeUndefined();
    expect(c.notify).toBeUndefined();
    expect(c.codes).toEqual({ max_app_codes: 25, default_expiry_days: 0, max_expiry_days: 0 });
    expect(clientSettings(c)).toBeUndefined();
  });

  it('the example documents every [clients] key with its default', () => {
    const c = parseConfig(withSectionUncommented(exampleConfigText(), 'clients'));
    expect(c.clients).toEqual({
      host: 'mail.example.com',
      display_name: 'Example Mail',
      domains: ['example.com'],
      login_name: 'address',
      imap_port: 993,
      imap_security: 'tls',
      pop3_port: 995,
      pop3_security: 'off',
      smtp_port: 465,
      smtp_security: 'tls',
      sign_profiles: true,
    });
    expect(parseConfig(`${MINIMAL}[clients]\nhost = "Mail.Example.COM"\n`).clients).toEqual({ ...c.clients, host: 'mail.example.com', display_name: undefined, domains: [] });
  });

  it('the example documents every [notify] key with its default (it needs [portal] public_url)', () => {
    const text = withSectionUncommented(exampleConfigText(), 'notify').replace('# public_url = ', 'public_url = ');
    const c = parseConfig(text);
    expect(c.notify).toEqual({
      from: 'twostep@example.com',
      smtp: { host: '127.0.0.1', port: 25 },
      smtp_tls: 'none',
      smtp_ca: '/etc/ssl/certs/ca-certificates.crt',
      recipient_domain: 'example.com',
      two_step_changes: true,
      app_code_changes: true,
      one_time_codes: true,
      new_browser: true,
      new_network: true,
      account_locked: true,
      code_expiring: true,
    });
    expect(c.portal?.public_url).toBe('https://mail.example.com/');
    // The login keys the example describes in prose load as written there.
    const login = `${WITH_URL}[notify]\nfrom = "a@example.com"\nsmtp_tls = "starttls"\nsmtp_user = "twostep"\nsmtp_password_file = "config/notify-password"\n`;
    expect(parseConfig(login).notify).toMatchObject({ smtp_user: 'twostep', smtp_password_file: 'config/notify-password' });
  });

  it.each([
    [`${MINIMAL}[notify]\nfrom = "a@example.com"\n`, 'portal.public_url: required with [notify]'],
    [`${WITH_URL}[notify]\nfrom = "not an address"\n`, 'notify.from: must be an address'],
    [`${WITH_URL}[notify]\nfrom = "a@example.com"\nsmtp = "nope"\n`, 'notify.smtp: must be "host:port" for a mail server address'],
    [`${WITH_URL}[notify]\nfrom = "a@example.com"\nsmtp_user = "u"\n`, 'notify.smtp_user: set smtp_user and smtp_password_file together'],
    [`${WITH_URL}[notify]\nfrom = "a@example.com"\nsmtp_user = "u"\nsmtp_password_file = "f"\n`, 'notify.smtp_user: smtp_user needs smtp_tls'],
    [`${WITH_URL}[notify]\nfrom = "a@example.com"\nnew_browsers = false\n`, 'notify.new_browsers: unknown key'],
    [`${MINIMAL}[portal]\npublic_url = "mail.example.com"\n`, 'portal.public_url: must be an http(s) URL'],
    [`${MINIMAL}[clients]\n`, 'clients.host: required key is missing'],
    [`${MINIMAL}[clients]\nhost = "https://mail.example.com"\n`, 'clients.host: must be a host name'],
    [`${MINIMAL}[clients]\nhost = "m.example.com"\nimap_security = "off"\n`, 'clients.imap_security: advertise IMAP or POP3'],
    [`${MINIMAL}[clients]\nhost = "m.example.com"\nlogin_name = "localpart"\n`, 'clients.login_name: login_name = "localpart" needs domains'],
    [`${MINIMAL}[clients]\nhost = "m.example.com"\nsmtp_port = 0\n`, 'clients.smtp_port:'],
    [`${MINIMAL}[codes]\ndefault_expiry_days = 400\nmax_expiry_days = 365\n`, 'codes.default_expiry_days: must not be above max_expiry_days'],
  ])('refuses bad input naming the key: %#', (text, expected) => {
    expect(() => parseConfig(text, 'twostep.toml')).toThrow(`twostep.toml: ${expected}`);
  });

  it('advertises what [clients] names, and prints its DNS records (RFC 6186 SRV, autoconfig., autodiscover.)', () => {
    const c = parseConfig(
      `${MINIMAL}[portal]\npublic_url = "https://portal.example.com:8443/"\n[clients]\nhost = "mail.example.com"\ndomains = ["example.com", "example.org"]\nimap_security = "starttls"\nimap_port = 143\npop3_security = "tls"\n`,
    );
    const s = clientSettings(c);
    expect(s?.services).toEqual([
      { protocol: 'imap', host: 'mail.example.com', port: 143, security: 'starttls' },
      { protocol: 'pop3', host: 'mail.example.com', port: 995, security: 'tls' },
      { protocol: 'smtp', host: 'mail.example.com', port: 465, security: 'tls' },
    ]);
    const records = dnsRecords(s!);
    for (const line of [
      '_imaps._tcp.example.com. 3600 IN SRV 0 0 0 .',
      '_imap._tcp.example.com. 3600 IN SRV 0 1 143 mail.example.com.',
      '_pop3s._tcp.example.org. 3600 IN SRV 0 1 995 mail.example.com.',
      '_pop3._tcp.example.org. 3600 IN SRV 0 0 0 .',
      '_submissions._tcp.example.com. 3600 IN SRV 0 1 465 mail.example.com.',
      '_submission._tcp.example.com. 3600 IN SRV 0 0 0 .',
      'autoconfig.example.org. 3600 IN CNAME portal.example.com.',
      'autodiscover.example.com. 3600 IN CNAME portal.example.com.',
      '_autodiscover._tcp.example.com. 3600 IN SRV 0 0 8443 portal.example.com.',
    ]) {
      expect(records).toContain(line);
    }
  });
});
