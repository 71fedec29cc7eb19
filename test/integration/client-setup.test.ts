import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { send } from '../helpers/http-client.js';
import { oneTimeCodes, openssl, PortalHttp, python, resultPage } from '../helpers/portal-http.js';
import { freePort } from '../helpers/ports.js';
import { postfixSnippet, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { makeTestCert } from '../helpers/tls.js';
import { enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/** The mail payload of an Apple configuration profile, as the test reads it. */
interface MailPayload {
  IncomingMailServerPortNumber: number;
  IncomingMailServerUsername: string;
  IncomingPassword: string;
  OutgoingMailServerPortNumber: number;
  OutgoingPassword: string;
}

/**
 * Issue 15 part 1 against a real `twostep serve` (IMAPS and SMTPS front ends, the portal with
 * [clients]), a real Dovecot and a real Postfix: Thunderbird's autoconfig and Outlook's
 * autodiscover parse (python's ElementTree) and name the configured ports; the Apple profile of
 * "Add Application Code" verifies against the [tls] certificate (openssl cms), parses with
 * python's plistlib, holds the code the page showed, and that code signs in over IMAP and SMTP.
 */

const DOMAIN = 'test.example';
let dir: string;
let cert: { cert: string; key: string };
let dovecot: DovecotInstance;
let postfix: PostfixInstance;
let serve: ServeProcess;
let configPath: string;
let portalUrl: string;
let imapsPort: number;
let smtpsPort: number;
let nextCode: () => Promise<string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-client-setup-'));
  cert = makeTestCert(dir);
  dovecot = await startDovecot({ users: [{ user: 'alice', password: 'alice-main-pw' }], master: MASTER });
  const masterPort = await freePort();
  postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
    tls: cert,
    domain: DOMAIN,
    senderLogins: { [`alice@${DOMAIN}`]: 'alice' },
    extraServices: postfixSnippet('master.cf-master-mode', { port: masterPort, saslPath: `inet:127.0.0.1:${dovecot.authPort}` }),
  });
  [imapsPort, smtpsPort] = [await freePort(), await freePort()];
  const portalPort = await freePort();
  portalUrl = `http://127.0.0.1:${portalPort}`;
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${imapsPort}`,
    backendCa: cert.cert,
    smtp: { listen: '', listenTls: `127.0.0.1:${smtpsPort}`, backendPort: masterPort, backendTls: 'starttls', backendLogin: 'master' },
    portal: { listen: `127.0.0.1:${portalPort}`, public_url: `${portalUrl}/` },
    sections: {
      clients: { host: 'localhost', display_name: 'Test Mail', domains: [DOMAIN], login_name: 'localpart', imap_port: imapsPort, smtp_port: smtpsPort },
      codes: { default_expiry_days: 90, max_expiry_days: 365 },
    },
  });
  await enableTwoStep(configPath, 'alice');
  nextCode = await oneTimeCodes(configPath, 'alice');
  serve = await startServe(configPath);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await postfix?.stop();
  await dovecot?.stop();
});

/** ElementTree's reading of an autoconfig answer: every server's type, host, port, socket type and user name. */
const AUTOCONFIG_PY = `import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
p = root.find('emailProvider')
servers = [{'tag': s.tag, 'type': s.get('type'), **{c.tag: c.text for c in s}} for s in p if s.tag in ('incomingServer', 'outgoingServer')]
print(json.dumps({'root': root.tag, 'id': p.get('id'), 'domains': [d.text for d in p.findall('domain')], 'name': p.find('displayName').text, 'servers': servers, 'doc': p.find('documentation').get('url')}))`;

const AUTODISCOVER_PY = `import sys, json, xml.etree.ElementTree as ET
ns = {'r': 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006', 'o': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
root = ET.fromstring(sys.stdin.buffer.read())
acc = root.find('o:Response/o:Account', ns)
print(json.dumps({'type': acc.find('o:AccountType', ns).text, 'protocols': [{c.tag.split('}')[1]: c.text for c in p} for p in acc.findall('o:Protocol', ns)]}))`;

const PLIST_PY = `import sys, json, plistlib
print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))`;

describe('mail apps that configure themselves (real serve, Dovecot, Postfix)', { timeout: 60_000 }, () => {
  it('Thunderbird autoconfig at both paths: the configured host, ports and TLS (and no secret: the app asks for the code)', async () => {
    for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml']) {
      const res = await send(`${portalUrl}${path}?emailaddress=alice%40${DOMAIN}`);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
      const xml = JSON.parse(await python(AUTOCONFIG_PY, res.body));
      expect(xml).toEqual({
        root: 'clientConfig',
        id: DOMAIN,
        domains: [DOMAIN],
        name: 'Test Mail',
        doc: `${portalUrl}/`,
        servers: [
          { tag: 'incomingServer', type: 'imap', hostname: 'localhost', port: String(imapsPort), socketType: 'SSL', authentication: 'password-cleartext', username: '%EMAILLOCALPART%' },
          { tag: 'outgoingServer', type: 'smtp', hostname: 'localhost', port: String(smtpsPort), socketType: 'SSL', authentication: 'password-cleartext', username: '%EMAILLOCALPART%' },
        ],
      });
    }
    expect((await send(`${portalUrl}/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.example`)).status).toBe(404);
    expect((await send(`${portalUrl}/mail/config-v1.1.xml?emailaddress=%3Cscript%3E`)).status).toBe(400);
  });

  it('Outlook autodiscover (POX): IMAP and SMTP at the configured ports, the login name; other schemas and domains refused', async () => {
    const body = (email: string, schema = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a') =>
      `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>${schema}</AcceptableResponseSchema></Request></Autodiscover>`;
    const post = (path: string, text: string) => send(`${portalUrl}${path}`, { method: 'POST', body: text, headers: { 'content-type': 'text/xml' } });
    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
      const res = await post(path, body(`alice@${DOMAIN}`));
      expect(res.status, path).toBe(200);
      const xml = JSON.parse(await python(AUTODISCOVER_PY, res.body)) as { type: string; protocols: Record<string, string>[] };
      expect(xml.type).toBe('email');
      expect(xml.protocols.map((p: Record<string, string>) => [p.Type, p.Server, p.Port, p.LoginName, p.SSL, p.Encryption])).toEqual([
        ['IMAP', 'localhost', String(imapsPort), 'alice', 'on', 'SSL'],
        ['SMTP', 'localhost', String(smtpsPort), 'alice', 'on', 'SSL'],
      ]);
    }
    expect((await post('/autodiscover/autodiscover.xml', body(`bob@elsewhere.example`))).status).toBe(404);
    const mobile = await post('/autodiscover/autodiscover.xml', body(`alice@${DOMAIN}`, 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'));
    expect(mobile.body).toContain('<ErrorCode>603</ErrorCode>');
    const junk = await post('/autodiscover/autodiscover.xml', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Autodiscover>&e;</Autodiscover>');
    expect(junk.status).toBe(400);
    expect(junk.body).toContain('<ErrorCode>600</ErrorCode>');
  });

  it('the Apple profile: signed by the [tls] certificate, parsed by plistlib, the code the page showed, once; the code signs in over IMAP and SMTP', async () => {
    const b = new PortalHttp(portalUrl);
    await b.signIn('alice', 'alice-main-pw', nextCode);
    expect((await b.get('/apps/new')).body).toContain('<option value="90" selected>After 90 days</option>');
    const page = await b.post('/apps', { name: 'iPhone', scopes_shown: '1', scope_imap: '1', scope_smtp: '1', expires: '30' });
    expect(page.status).toBe(200);
    const { code, profileUrl } = resultPage(page.body);
    expect(page.body).toContain('It signs in over IMAP and SMTP only');
    expect(page.body).toContain(`localhost, port ${imapsPort}, SSL/TLS`);
    expect(profileUrl).toMatch(/^\/apps\/profile\/[A-Za-z0-9_-]{32}$/);

    const dl = await b.download(profileUrl as string);
    expect(dl.status).toBe(200);
    expect(dl.type).toBe('application/x-apple-aspen-config');
    expect(dl.disposition).toBe('attachment; filename="iPhone.mobileconfig"');
    // A CMS SignedData that verifies against the [tls] certificate, holding the plist.
    const plist = await openssl(['cms', '-verify', '-inform', 'DER', '-CAfile', cert.cert, '-purpose', 'any'], dl.bytes);
    const profile = JSON.parse(await python(PLIST_PY, plist)) as { PayloadContent: MailPayload[] };
    const mail = profile.PayloadContent[0] as MailPayload;
    expect(profile).toMatchObject({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadOrganization: 'Test Mail', PayloadRemovalDisallowed: false });
    expect(profile.PayloadContent).toHaveLength(1);
    expect(mail).toMatchObject({
      PayloadType: 'com.apple.mail.managed',
      EmailAccountType: 'EmailTypeIMAP',
      EmailAddress: `alice@${DOMAIN}`,
      IncomingMailServerHostName: 'localhost',
      IncomingMailServerPortNumber: imapsPort,
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: 'alice',
      IncomingPassword: code,
      OutgoingMailServerHostName: 'localhost',
      OutgoingMailServerPortNumber: smtpsPort,
      OutgoingMailServerUseSSL: true,
      OutgoingMailServerUsername: 'alice',
      OutgoingPassword: code,
    });
    // Once, like the code.
    expect((await b.download(profileUrl as string)).status).toBe(410);

    // The profile's settings and password sign in: IMAP ...
    const imap = await RawImapClient.connect({ port: mail.IncomingMailServerPortNumber, tls: true });
    await imap.greeting();
    expect(await imap.command(`LOGIN ${mail.IncomingMailServerUsername} ${mail.IncomingPassword}`)).toMatch(/^t1 OK/m);
    imap.close();
    // ... and SMTP, through Postfix.
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: mail.OutgoingMailServerPortNumber,
      secure: true,
      auth: { user: 'alice', pass: mail.OutgoingPassword },
      tls: { rejectUnauthorized: false },
    });
    const sent = await smtp.sendMail({ from: `alice@${DOMAIN}`, to: `alice@${DOMAIN}`, subject: 'from the profile', text: 'hi' });
    expect(sent.response).toMatch(/^250 /);
    smtp.close();
  });

  it('a code limited to IMAP: no profile (an Apple account needs SMTP too), and SMTP refuses it, the audit saying why', async () => {
    const b = new PortalHttp(portalUrl);
    await b.signIn('alice', 'alice-main-pw', nextCode);
    await b.get('/apps/new');
    const page = await b.post('/apps', { name: 'Reader', scopes_shown: '1', scope_imap: '1', expires: '7' });
    const { code, profileUrl } = resultPage(page.body);
    expect(profileUrl).toBeUndefined();
    const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: smtpsPort, secure: true, auth: { user: 'alice', pass: code }, tls: { rejectUnauthorized: false } });
    await expect(smtp.verify()).rejects.toThrow(/535/);
    smtp.close();
    const audit = JSON.parse((await runCli(['--config', configPath, 'audit', '--user', 'alice', '--json'])).stdout) as Array<{ event: string; protocol: string; detail: Record<string, unknown> }>;
    expect(audit.find((e) => e.event === 'login.fail' && e.protocol === 'smtp')?.detail).toMatchObject({ reason: 'app-code-required', why: 'scope', codeName: 'Reader' });
    const list = JSON.parse((await runCli(['--config', configPath, 'appcode', 'list', 'alice', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(list.find((c) => c.name === 'Reader')).toMatchObject({ scopes: ['imap'], expired: false });
    expect(String(list.find((c) => c.name === 'Reader')?.expiresAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('the profile link belongs to the session that made the code', async () => {
    const b = new PortalHttp(portalUrl);
    await b.signIn('alice', 'alice-main-pw', nextCode);
    await b.get('/apps/new');
    const { profileUrl } = resultPage((await b.post('/apps', { name: 'iPad', scopes_shown: '1', scope_imap: '1', scope_smtp: '1' })).body);
    const other = new PortalHttp(portalUrl);
    await other.signIn('alice', 'alice-main-pw', nextCode);
    expect((await other.download(profileUrl as string)).status).toBe(410);
    const anonymous = await fetch(portalUrl + (profileUrl as string), { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
  });
});
