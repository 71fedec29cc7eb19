import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { codeRowWhen } from '../helpers/store-changes.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * The core promise against a real Dovecot: accounts without 2FA pass through untouched; a 2FA
 * account signs in only with an application code (over STARTTLS and implicit TLS, any case,
 * spaced), its main password is refused with a hint, Last Used is recorded, revocation is seen at
 * once, and Dovecot logs the real client address. Runs with [imap] backend_spares = 2.
 */

const MESSAGE = (to: string, subject: string) =>
  `From: sender@example.com\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 06:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nHello ${to}, this is ${subject}.\r\n`;

let dovecot: DovecotInstance;
let serve: ServeProcess;
let dir: string;
let configPath: string;
let plainPort: number;
let tlsPort: number;
let phoneCode: string;

const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);

async function readFirstMessage(client: ImapFlow): Promise<string> {
  const lock = await client.getMailboxLock('INBOX');
  try {
    const msg = await client.fetchOne('1', { source: true });
    if (!msg || !msg.source) throw new Error('no message 1');
    return msg.source.toString();
  } finally {
    lock.release();
  }
}

function flow(user: string, pass: string, opts: { tls: boolean }): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: opts.tls ? tlsPort : plainPort,
    secure: opts.tls,
    doSTARTTLS: opts.tls ? undefined : true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    logger: false,
    clientInfo: { name: 'Integration Mail', version: '1.0' },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  dovecot.deliver('alice', MESSAGE('alice', 'Message for alice'));
  dovecot.deliver('bob', MESSAGE('bob', 'Message for bob'));

  const cert = sharedTestCert();
  plainPort = await freePort();
  tlsPort = await freePort();
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${plainPort}`,
    listenTls: `127.0.0.1:${tlsPort}`,
    // Every login of this suite takes a backend connection opened ahead (the opt-in path); the
    // other suites cover the default, a connection per login.
    backendSpares: 2,
  });

  // The admin allows bob; bob enrols an authenticator and gets an application code.
  await enableTwoStep(configPath, 'bob');
  phoneCode = await addAppCode(configPath, 'bob', 'Phone');
  expect(phoneCode).toMatch(/^[A-Z]{16}$/);

  serve = await startServe(configPath);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('twostep in front of a real Dovecot (IMAP)', () => {
  it('lets an account without 2FA sign in with its main password and read mail (STARTTLS)', async () => {
    const client = flow('alice', 'alice-main-pw', { tls: false });
    await client.connect();
    expect(await readFirstMessage(client)).toContain('Subject: Message for alice');
    await client.logout();
  });

  it('refuses a wrong password of an account without 2FA in the words of every refusal (no one can tell two-step accounts apart)', async () => {
    const c = await RawImapClient.connect({ port: tlsPort, tls: true });
    await c.greeting();
    const answer = await c.command('LOGIN alice wrong-password');
    expect(answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\] Authentication failed\. If this account uses two-step authentication, sign in with an application code\.$/m);
    c.close();
  });

  it('refuses the main password of a 2FA account and says to use an application code', async () => {
    const c = await RawImapClient.connect({ port: tlsPort, tls: true });
    await c.greeting();
    const started = performance.now();
    const answer = await c.command('LOGIN bob bob-main-pw');
    expect(answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\] .*application code/m);
    // [auth] failure_delay_ms (300 in the test config) holds the refusal back, as Dovecot does.
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    c.close();
  });

  it('accepts the application code over STARTTLS and the mailbox is bob\'s', async () => {
    const client = flow('bob', phoneCode, { tls: false });
    await client.connect();
    expect(await readFirstMessage(client)).toContain('Subject: Message for bob');
    await client.logout();
  });

  it('accepts the application code over implicit TLS in lower case with spaces', async () => {
    const spaced = phoneCode.toLowerCase().replace(/(.{4})(?=.)/g, '$1 ');
    expect(spaced).toMatch(/^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/);
    const client = flow('bob', spaced, { tls: true });
    await client.connect();
    expect(await readFirstMessage(client)).toContain('Subject: Message for bob');
    await client.logout();
  });

  it('accepts AUTHENTICATE PLAIN with SASL-IR and returns Dovecot\'s post-login capabilities', async () => {
    const c = await RawImapClient.connect({ port: tlsPort, tls: true });
    await c.greeting();
    const ir = Buffer.from(`\0bob\0${phoneCode}`).toString('base64');
    const answer = await c.command(`AUTHENTICATE PLAIN ${ir}`);
    expect(answer).toMatch(/^t1 OK \[CAPABILITY [^\]]*IMAP4rev1[^\]]*\]/m);
    expect(answer).not.toMatch(/STARTTLS|AUTH=/);
    const sel = await c.command('SELECT INBOX');
    expect(sel).toMatch(/^\* 1 EXISTS/m);
    expect(sel).toMatch(/^t2 OK/m);
    c.close();
  });

  it('records Last Used: time, client IP, protocol and client name', async () => {
    // serve writes it a moment after the logins above (its write-behind queue): waited for.
    const phone = await codeRowWhen(configPath, 'bob', 'Phone', (r) => r.lastUsedAt !== null);
    expect(phone).toBeDefined();
    expect(Date.now() - Date.parse(phone?.lastUsedAt as string)).toBeLessThan(60_000);
    expect(phone?.lastUsedIp).toBe('127.0.0.1');
    expect(phone?.lastUsedProtocol).toBe('imap');
    const text = await cli('appcode', 'list', 'bob');
    expect(text.stdout).toMatch(/^Name\s+Created\s+Last Used/m);
    expect(text.stdout).toMatch(/^Phone\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+127\.0\.0\.1\s+imap/m);
  });

  it('keeps the client name from IMAP ID in Last Used', async () => {
    const since = Date.now();
    const client = flow('bob', phoneCode, { tls: true });
    await client.connect();
    await client.logout();
    const phone = await codeRowWhen(configPath, 'bob', 'Phone', (r) => Date.parse(r.lastUsedAt ?? '') >= since);
    expect(phone?.lastUsedClient).toMatch(/Integration Mail/);
  });

  it('refuses a wrong code and a revoked code; a revoke by the CLI is seen by serve at once', async () => {
    const add = await cli('appcode', 'add', 'bob', 'Tablet');
    const tablet = add.stdout.trimEnd().split('\n').pop() as string;
    const c1 = await RawImapClient.connect({ port: tlsPort, tls: true });
    await c1.greeting();
    expect(await c1.command(`LOGIN bob ${tablet}`)).toMatch(/^t1 OK/m);
    c1.close();

    expect((await cli('appcode', 'revoke', 'bob', 'Tablet')).code).toBe(0);
    const c2 = await RawImapClient.connect({ port: tlsPort, tls: true });
    await c2.greeting();
    expect(await c2.command(`LOGIN bob ${tablet}`)).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\].*application code/m);
    expect(await c2.command('LOGIN bob AAAABBBBCCCCDDDD')).toMatch(/^t2 NO \[AUTHENTICATIONFAILED\]/m);
    c2.close();
  });

  it('advertises LOGINDISABLED before STARTTLS and refuses plaintext login', async () => {
    const c = await RawImapClient.connect({ port: plainPort });
    const greeting = await c.greeting();
    expect(greeting).toMatch(/STARTTLS/);
    expect(greeting).toMatch(/LOGINDISABLED/);
    expect(await c.command(`LOGIN bob ${phoneCode}`)).toMatch(/^t1 NO \[PRIVACYREQUIRED\]/m);
    await c.starttls();
    const caps = await c.command('CAPABILITY');
    expect(caps).not.toMatch(/LOGINDISABLED|STARTTLS/);
    expect(caps).toMatch(/AUTH=PLAIN/);
    expect(await c.command(`LOGIN bob ${phoneCode}`)).toMatch(/^t4 OK/m);
    c.close();
  });

  it('passes the real client address to Dovecot, which logs it as rip=', async () => {
    const since = Date.now();
    const c = await RawImapClient.connect({ port: tlsPort, tls: true, localAddress: '127.0.0.2' });
    await c.greeting();
    expect(await c.command(`LOGIN bob ${phoneCode}`)).toMatch(/^t1 OK/m);
    await c.command('LOGOUT').catch(() => '');
    c.close();
    const login = /imap-login: (Info: )?Login: user=<bob>.*rip=127\.0\.0\.2/;
    expect(await dovecot.waitForLog(login)).toMatch(login);
    const phone = await codeRowWhen(configPath, 'bob', 'Phone', (r) => Date.parse(r.lastUsedAt ?? '') >= since);
    expect(phone?.lastUsedIp).toBe('127.0.0.2');
  });

  it('works with curl, which signs in with AUTHENTICATE PLAIN', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'curl',
        ['-sS', '-k', '--ssl-reqd', '--max-time', '10', '-u', `bob:${phoneCode}`, `imap://127.0.0.1:${plainPort}/INBOX?ALL`],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/\* SEARCH 1/);
  });

  it('works with python\'s imaplib, which sends a plain LOGIN (STARTTLS, code with dashes)', async () => {
    const dashed = phoneCode.replace(/(.{4})(?=.)/g, '$1-');
    const script = [
      'import imaplib, ssl, sys',
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      `m = imaplib.IMAP4('127.0.0.1', ${plainPort}); m.starttls(ssl_context=ctx)`,
      'typ, _ = m.login(sys.argv[1], sys.argv[2]); print(typ)',
      "typ, data = m.select('INBOX'); print(typ, data[0].decode())",
      "typ, data = m.fetch('1', '(BODY[HEADER.FIELDS (SUBJECT)])'); print(data[0][1].decode().strip())",
      'm.logout()',
    ].join('\n');
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('python3', ['-c', script, 'bob', dashed], { timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^OK\nOK 1\nSubject: Message for bob/);
  });

  it('never writes a code or password into its own log or the audit trail', async () => {
    const audit = await cli('audit', '--json');
    expect(audit.code).toBe(0);
    const events = JSON.parse(audit.stdout) as Array<{ event: string; user: string | null }>;
    expect(events.some((e) => e.user === 'bob' && /ok/.test(e.event))).toBe(true);
    for (const text of [serve.log(), audit.stdout]) {
      expect(text).not.toContain(phoneCode);
      expect(text.toLowerCase()).not.toContain(phoneCode.toLowerCase());
      expect(text).not.toContain('bob-main-pw');
      expect(text).not.toContain('master-secret-pw');
    }
  });
});
