import { execFile } from 'node:child_process';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostfixInstance } from '../helpers/postfix.js';
import { RawSmtpClient, saslPlain } from '../helpers/raw-smtp-client.js';
import { DOMAIN, keywords, type Mode, MODES, queueId, readOverImap as readOver, type SmtpFronts, smtpdLine as smtpdLineOf, startSmtpFronts } from '../helpers/smtp-fronts.js';
import { addAppCode, MASTER } from '../helpers/twostep-config.js';
import { auditWhen, codeRowWhen } from '../helpers/store-changes.js';
import { runCli } from '../helpers/twostep-process.js';

/**
 * SMTP submission through twostep in front of a real Postfix, in each login mode (see
 * helpers/smtp-fronts.ts). Clients connect from 127.0.0.2. Postfix must log the user, never
 * the master login.
 */

/** The address Postfix sees as the client in each mode. */
const SEEN_IP: Record<Mode, string> = { master: '127.0.0.1', xclient: '127.0.0.2', 'fwd-master': '127.0.0.2' };
const CLIENT_IP = '127.0.0.2';

let env: SmtpFronts;
let postfix: PostfixInstance;
let aliceCode: string;
let fronts: SmtpFronts['fronts'];

function transport(mode: Mode, o: { user: string; pass: string; implicitTls?: boolean }) {
  const f = fronts[mode];
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: o.implicitTls ? f.tlsPort : f.starttlsPort,
    secure: !!o.implicitTls,
    requireTLS: !o.implicitTls,
    localAddress: CLIENT_IP,
    name: 'phone.client.example',
    auth: { user: o.user, pass: o.pass },
    tls: { rejectUnauthorized: false },
  });
}

const readOverImap = (user: string, pass: string, subject: string) => readOver(env.imapTlsPort, user, pass, subject);
const smtpdLine = (id: string) => smtpdLineOf(postfix, id);

/** Runs Debian's swaks (a real SMTP client); a missing swaks is a setup error, said plainly. */
function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile('swaks', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err?.code === 'ENOENT') return reject(new Error('swaks is not installed: apt-get install swaks (as .ci/run does)'));
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

beforeAll(async () => {
  env = await startSmtpFronts('twostep-smtp-it-');
  ({ postfix, aliceCode, fronts } = env);
});

afterAll(async () => {
  await env?.stop();
});

describe.each(MODES)('%s', (mode) => {
  const method = mode === 'xclient' ? 'XCLIENT' : 'PLAIN';
  const seen = SEEN_IP[mode].replaceAll('.', '\\.');

  it('nodemailer over STARTTLS with an application code: delivered, readable over IMAP, Postfix names the user and the real client', async () => {
    const subject = `code over starttls ${mode}`;
    const info = await transport(mode, { user: 'alice', pass: aliceCode.toLowerCase() }).sendMail({
      from: `alice@${DOMAIN}`,
      to: `bob@${DOMAIN}`,
      subject,
      text: 'Sent through twostep.',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(await smtpdLine(queueId(info.response))).toMatch(new RegExp(`client=unknown\\[${seen}\\], sasl_method=${method}, sasl_username=alice$`));
    const msg = await readOverImap('bob', 'bob-main-pw', subject);
    expect(msg).toContain('(Authenticated sender: alice)');
    expect(msg).toMatch(new RegExp(`Received: from phone\\.client\\.example \\(unknown \\[${seen}\\]\\)`));
    expect(msg).not.toContain(MASTER.user);
    expect(msg).toContain('Sent through twostep.');
  });

  it('nodemailer over implicit TLS with an application code', async () => {
    const subject = `code over tls ${mode}`;
    const info = await transport(mode, { user: 'alice', pass: aliceCode, implicitTls: true }).sendMail({
      from: `alice@${DOMAIN}`,
      to: `alice@${DOMAIN}`,
      subject,
      text: 'Implicit TLS.',
    });
    expect(await smtpdLine(queueId(info.response))).toContain(`sasl_username=alice`);
    expect(await readOverImap('alice', aliceCode, subject)).toContain('Implicit TLS.');
  });

  it('swaks: AUTH LOGIN over STARTTLS and AUTH PLAIN over implicit TLS', async () => {
    const common = ['--from', `alice@${DOMAIN}`, '--to', `alice@${DOMAIN}`, '--auth-user', 'alice', '--auth-password', aliceCode, '--local-interface', CLIENT_IP];
    const starttls = await swaks(['--server', `127.0.0.1:${fronts[mode].starttlsPort}`, '--tls', '--auth', 'LOGIN', '--header', `Subject: swaks login ${mode}`, ...common]);
    expect(starttls.out).toMatch(/<~ {2}235 2\.7\.0/);
    expect(starttls.out).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as/);
    expect(starttls.code).toBe(0);
    const implicit = await swaks(['--server', `127.0.0.1:${fronts[mode].tlsPort}`, '--tlsc', '--auth', 'PLAIN', '--header', `Subject: swaks plain ${mode}`, ...common]);
    expect(implicit.out).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as/);
    expect(implicit.code).toBe(0);
    expect(await readOverImap('alice', aliceCode, `swaks login ${mode}`)).toContain('(Authenticated sender: alice)');
  });

  it('the main password of a two-step account is refused with the hint', async () => {
    const err = await transport(mode, { user: 'alice', pass: 'alice-main-pw' })
      .sendMail({ from: `alice@${DOMAIN}`, to: `alice@${DOMAIN}`, subject: 'never', text: 'x' })
      .then(() => null, (e: { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(535);
    expect(err?.response).toMatch(/^535 5\.7\.8 .*If this account uses two-step authentication, sign in with an application code/);
  });

  it('a user without two-step authentication sends with the main password; a wrong one gets 535', async () => {
    const subject = `passthrough ${mode}`;
    const info = await transport(mode, { user: 'bob', pass: 'bob-main-pw' }).sendMail({ from: `bob@${DOMAIN}`, to: `alice@${DOMAIN}`, subject, text: 'bob' });
    expect(await smtpdLine(queueId(info.response))).toMatch(new RegExp(`client=unknown\\[${seen}\\], sasl_method=PLAIN, sasl_username=bob$`));
    expect(await readOverImap('alice', aliceCode, subject)).toContain('(Authenticated sender: bob)');
    const err = await transport(mode, { user: 'bob', pass: 'wrong-pw' })
      .sendMail({ from: `bob@${DOMAIN}`, to: `alice@${DOMAIN}`, subject: 'never', text: 'x' })
      .then(() => null, (e: { responseCode?: number }) => e);
    expect(err?.responseCode).toBe(535);
  });

  it('Postfix still enforces the sender-login map: alice may not send as bob', async () => {
    const err = await transport(mode, { user: 'alice', pass: aliceCode })
      .sendMail({ from: `bob@${DOMAIN}`, to: `alice@${DOMAIN}`, subject: 'forged', text: 'x' })
      .then(() => null, (e: { responseCode?: number; response?: string }) => e);
    expect(err?.responseCode).toBe(553);
    expect(err?.response).toMatch(/5\.7\.1 .*not owned by user alice/);
  });

  it('a pipelined session (AUTH, MAIL, RCPT, DATA in one packet) with an SMTPUTF8 8-bit message arrives intact', async () => {
    const c = await RawSmtpClient.connect({ port: fronts[mode].tlsPort, tls: true, localAddress: CLIENT_IP });
    expect(await c.reply()).toMatch(/^220 /);
    const ehlo = await c.command('EHLO pipeline.client.example');
    for (const kw of ['PIPELINING', 'SIZE 10240000', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'CHUNKING', 'AUTH PLAIN LOGIN']) {
      expect(keywords(ehlo)).toContain(kw);
    }
    expect(ehlo).not.toMatch(/XCLIENT|XFORWARD|VRFY|ETRN|STARTTLS/);
    // Headers stay ASCII: the test Dovecot's LMTP (2.3) does not offer SMTPUTF8, and Postfix
    // rightly bounces a message that needs it. The 8-bit UTF-8 body and the SMTPUTF8 parameter pass.
    const subject = `pipelined-${mode} =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=`;
    const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    c.write(
      `AUTH PLAIN ${saslPlain('alice', aliceCode)}\r\n` +
        `MAIL FROM:<alice@${DOMAIN}> BODY=8BITMIME SMTPUTF8\r\n` +
        `RCPT TO:<alice@${DOMAIN}>\r\n` +
        'DATA\r\n',
    );
    expect(await c.reply()).toMatch(/^235 2\.7\.0/);
    expect(await c.reply()).toMatch(/^250 2\.1\.0/);
    expect(await c.reply()).toMatch(/^250 2\.1\.5/);
    expect(await c.reply()).toMatch(/^354 /);
    c.write(utf8(`From: alice@${DOMAIN}\r\nTo: alice@${DOMAIN}\r\nSubject: ${subject}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄÖÜ äöü ß € 日本語 ✓\r\n..leading dot\r\n.\r\n`));
    expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok: queued as/);
    // A second transaction in the same session, pipelined: raw UTF-8 in a header (8BITMIME, no
    // SMTPUTF8 flag, so Postfix may hand it to an LMTP server without SMTPUTF8).
    c.write(`MAIL FROM:<alice@${DOMAIN}> BODY=8BITMIME\r\nRCPT TO:<alice@${DOMAIN}>\r\nDATA\r\n`);
    expect(await c.reply()).toMatch(/^250 2\.1\.0/);
    expect(await c.reply()).toMatch(/^250 2\.1\.5/);
    expect(await c.reply()).toMatch(/^354 /);
    c.write(utf8(`From: alice@${DOMAIN}\r\nSubject: rawheader-${mode} Grüße 日本\r\n\r\nzwei\r\n.\r\n`));
    expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok: queued as/);
    expect(await c.command('QUIT')).toMatch(/^221 /);
    const msg = await readOverImap('alice', aliceCode, `pipelined-${mode}`);
    expect(msg).toContain(`Subject: ${subject}`);
    expect(msg).toContain('ÄÖÜ äöü ß € 日本語 ✓\r\n.leading dot');
    expect(await readOverImap('alice', aliceCode, `rawheader-${mode}`)).toContain(`Subject: rawheader-${mode} Grüße 日本\r\n`);
  });
});

it('BDAT (CHUNKING) passes through to Postfix byte for byte', async () => {
  const c = await RawSmtpClient.connect({ port: fronts.xclient.starttlsPort, localAddress: CLIENT_IP });
  expect(await c.reply()).toMatch(/^220 /);
  await c.command('EHLO chunky.example');
  expect(await c.starttls()).toMatch(/^220 2\.0\.0/);
  expect(keywords(await c.command('EHLO chunky.example'))).toContain('CHUNKING');
  expect(await c.command(`AUTH PLAIN ${saslPlain('alice', aliceCode)}`)).toMatch(/^235 /);
  expect(await c.command(`MAIL FROM:<alice@${DOMAIN}>`)).toMatch(/^250 /);
  expect(await c.command(`RCPT TO:<alice@${DOMAIN}>`)).toMatch(/^250 /);
  const part1 = `From: alice@${DOMAIN}\r\nSubject: chunked-bdat\r\n\r\nfirst chunk\r\n`;
  const part2 = '.this line starts with a dot and is not stuffed\r\n';
  c.write(`BDAT ${part1.length}\r\n${part1}`);
  expect(await c.reply()).toMatch(/^250 2\.0\.0 /);
  c.write(`BDAT ${part2.length} LAST\r\n${part2}`);
  expect(await c.reply()).toMatch(/^250 2\.0\.0 Ok: \d+ bytes queued as/);
  expect(await c.command('QUIT')).toMatch(/^221 /);
  const msg = await readOverImap('alice', aliceCode, 'chunked-bdat');
  expect(msg).toContain('first chunk\r\n.this line starts with a dot and is not stuffed');
});

it('EHLO before TLS offers STARTTLS and no AUTH; MAIL before AUTH is refused', async () => {
  const c = await RawSmtpClient.connect({ port: fronts.master.starttlsPort });
  expect(await c.reply()).toMatch(/^220 \S+ ESMTP twostep$/);
  const ehlo = await c.command('EHLO x.example');
  expect(keywords(ehlo)).toContain('STARTTLS');
  expect(ehlo).not.toContain('AUTH');
  expect(await c.command('MAIL FROM:<alice@test.example>')).toMatch(/^530 5\.7\.0 /);
  expect(await c.command(`AUTH PLAIN ${saslPlain('alice', aliceCode)}`)).toMatch(/^538 5\.7\.11 /);
  expect(await c.command('QUIT')).toMatch(/^221 2\.0\.0/);
  c.close();
});

it('revoking an application code closes the SMTP sessions signed in with it', async () => {
  const laptop = await addAppCode(fronts.master.configPath, 'alice', 'Laptop');
  const c = await RawSmtpClient.connect({ port: fronts.xclient.tlsPort, tls: true });
  expect(await c.reply()).toMatch(/^220 /);
  await c.command('EHLO laptop.example');
  expect(await c.command(`AUTH PLAIN ${saslPlain('alice', laptop)}`)).toMatch(/^235 /);
  expect(await c.command(`MAIL FROM:<alice@${DOMAIN}>`)).toMatch(/^250 /);
  const revoke = await runCli(['--config', fronts.master.configPath, 'appcode', 'revoke', 'alice', 'Laptop']);
  expect(revoke.code).toBe(0);
  await c.waitClosed(5000);
  expect(await fronts.xclient.serve.waitForLog(/"event":"session.revoked"[^\n]*"proto":"smtp"/)).toMatch(/"event":"session.revoked"[^\n]*"proto":"smtp"/);
});

it('Last Used and the audit trail record protocol smtp', async () => {
  const tablet = await addAppCode(fronts.master.configPath, 'alice', 'Tablet');
  await transport('xclient', { user: 'alice', pass: tablet }).sendMail({ from: `alice@${DOMAIN}`, to: `alice@${DOMAIN}`, subject: 'from the tablet', text: 't' });
  // serve writes both a moment after the login (its write-behind queue): waited for.
  const tabletRow = await codeRowWhen(fronts.master.configPath, 'alice', 'Tablet', (r) => r.lastUsedProtocol !== null);
  expect(tabletRow).toMatchObject({ lastUsedProtocol: 'smtp', lastUsedIp: CLIENT_IP, lastUsedAt: expect.any(String) });
  const events = await auditWhen(fronts.master.configPath, ['--user', 'alice', '--limit', '500'], (es) =>
    es.some((e) => e.protocol === 'smtp' && e.event === 'login.ok' && e.detail?.codeName === 'Tablet'),
  );
  const smtpEvents = events.filter((e) => e.protocol === 'smtp');
  expect(smtpEvents[0]).toMatchObject({ protocol: 'smtp', ip: CLIENT_IP });
  expect(smtpEvents.every((e) => e.ip === CLIENT_IP || e.ip === '127.0.0.1')).toBe(true);
  expect(new Set(smtpEvents.map((e) => e.event)).size).toBeGreaterThanOrEqual(2); // successes and the refused main password
});

it('no password, application code or master password in any log line', () => {
  const logs = [...MODES.map((m) => fronts[m].serve.log()), postfix.log()].join('\n');
  expect(logs).toMatch(/"proto":"smtp"/);
  for (const secret of [aliceCode, aliceCode.toLowerCase(), 'alice-main-pw', 'bob-main-pw', MASTER.password, saslPlain('alice', aliceCode)]) {
    expect(logs).not.toContain(secret);
  }
});
