import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapLogin, pop3Login, sieveLogin, smtpLogin, type DoorTarget, type LoginResult } from '../helpers/door-logins.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { browserFor, type Harness } from '../helpers/portal-harness.js';
import { freePorts } from '../helpers/ports.js';
import { startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { codeRowWhen, type CodeRow } from '../helpers/store-changes.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Every door: Dovecot itself asks twostep (config/dovecot's Lua passdb, as shipped) about every
 * password login, so two-step authentication holds on Dovecot's own IMAP, POP3 and ManageSieve
 * listeners and on Postfix submission with Dovecot SASL, not only on twostep's proxy. The
 * auth-worker runs as `dovecot` (the socket is 0660 group dovecot) and Dovecot's auth cache is
 * on, so neither permissions nor the cache are assumed away.
 *
 * The attack: alice has two-step authentication on; someone with her main password goes around
 * twostep's proxy straight to Dovecot (or Postfix, or ManageSieve, where a sieve redirect would
 * get them all her future mail). Without the passdb Dovecot lets them in (`open` below shows it).
 */

const ALICE = { user: 'alice', password: 'alice-main-pw' };
const BOB = { user: 'bob', password: 'bob-main-pw' }; // no two-step authentication
const CLIENT = '127.0.0.2'; // direct logins come from here, so Last Used shows Dovecot's rip
const POLL_SECONDS = 2;
/** Each test makes dozens of real logins (swaks, CLI runs): generous on a busy 2-core machine. */
const LONG = 240_000;

let dir: string;
let dovecot: DovecotInstance;
let open: DovecotInstance; // the same users, no twostep passdb: the door as it was
let postfix: PostfixInstance;
let serve: ServeProcess;
let configPath: string;
let standbySocket: string;
let cert: { cert: string; key: string };
let proxy: { imap: number; pop3: number; smtp: number; portal: number };
const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);

type Door = { name: string; service: string; login(user: string, pass: string): Promise<LoginResult> };
const direct = (port: () => number | undefined): DoorTarget => ({ port: port() as number, localAddress: CLIENT });
const DIRECT_DOORS: Door[] = [
  { name: 'Dovecot IMAP', service: 'imap', login: (u, p) => imapLogin(direct(() => dovecot.imapPort), u, p) },
  { name: 'Dovecot POP3', service: 'pop3', login: (u, p) => pop3Login(direct(() => dovecot.pop3Port), u, p) },
  { name: 'Dovecot ManageSieve', service: 'sieve', login: (u, p) => sieveLogin(direct(() => dovecot.sievePort), u, p) },
  { name: 'Postfix submission (swaks)', service: 'smtp', login: (u, p) => smtpLogin(direct(() => postfix.submissionPort), u, p) },
];
const PROXY_DOORS: Door[] = [
  { name: 'twostep IMAP', service: 'imap', login: (u, p) => imapLogin({ port: proxy.imap, tls: true }, u, p) },
  { name: 'twostep POP3', service: 'pop3', login: (u, p) => pop3Login({ port: proxy.pop3, tls: true }, u, p) },
  { name: 'twostep SMTP', service: 'smtp', login: (u, p) => smtpLogin({ port: proxy.smtp, tls: true }, u, p) },
];
const ALL_DOORS = [...DIRECT_DOORS, ...PROXY_DOORS];

async function expectOutcome(door: Door, user: string, pass: string, outcome: LoginResult['outcome']): Promise<void> {
  const r = await door.login(user, pass);
  expect(r.outcome, `${door.name}: ${user} → ${r.answer}`).toBe(outcome);
}

/** Last Used is written in a batch just after the login: wait for it (the store's changes, not a sleep). */
async function lastUsed(name: string, protocol: string): Promise<CodeRow> {
  return (await codeRowWhen(configPath, 'alice', name, (r) => r.lastUsedProtocol === protocol)) as CodeRow;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-doors-it-'));
  chmodSync(dir, 0o755); // Dovecot's auth-worker (user dovecot) reaches the socket below it
  cert = sharedTestCert();
  const socket = join(dir, 'twostep-run', 'verify.sock');
  standbySocket = join(dir, 'twostep-run', 'standby.sock');
  const users = [ALICE, BOB];
  [dovecot, open] = await Promise.all([
    startDovecot({
      users,
      master: MASTER,
      // Two twostep instances for availability: the second is asked when the first is down.
      twostepPassdb: { socket: `${socket},${standbySocket}` },
      manageSieve: true,
      authWorkerUser: 'dovecot',
      extraConf: 'auth_cache_size = 1M\nauth_cache_ttl = 1 hour\nauth_mechanisms = plain login cram-md5',
    }),
    startDovecot({ users, master: MASTER }),
  ]);
  postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
    tls: cert,
    senderLogins: { 'alice@test.example': 'alice', 'bob@test.example': 'bob' },
  });
  const [imap, pop3, smtp, portal] = (await freePorts(4)) as [number, number, number, number];
  proxy = { imap, pop3, smtp, portal };
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${imap}`,
    pop3: { listen: '', listenTls: `127.0.0.1:${pop3}`, backendPort: dovecot.pop3Port },
    smtp: { listen: '', listenTls: `127.0.0.1:${smtp}`, backendPort: postfix.submissionPort, backendLogin: 'master' },
    auth: { revocation_poll_seconds: POLL_SECONDS },
    portal: { listen: `127.0.0.1:${portal}` },
    dovecot: {
      verify_socket: socket,
      verify_socket_group: 'dovecot',
      verify_socket_mode: '0660',
      kick_command: ['doveadm', '-c', dovecot.confPath, 'kick', '{user}'],
    },
  });
  await enableTwoStep(configPath, 'alice');
  serve = await startServe(configPath, 60_000);
}, LONG);

afterAll(async () => {
  await serve?.stop();
  await postfix?.stop();
  await Promise.all([dovecot?.stop(), open?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the verify service', () => {
  it('listens on a unix socket of mode 0660, group dovecot', () => {
    const st = statSync(join(dir, 'twostep-run', 'verify.sock'));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBeGreaterThan(0);
  });
});

describe('a two-step account', () => {
  it('the attack without the passdb: alice\'s main password opens Dovecot\'s own IMAP door', async () => {
    const r = await imapLogin({ port: open.imapPort, localAddress: CLIENT }, ALICE.user, ALICE.password);
    expect(r.outcome, r.answer).toBe('ok');
  }, LONG);

  it('main password refused directly at Dovecot IMAP, POP3, ManageSieve and Postfix submission, and through the proxy', async () => {
    for (const door of ALL_DOORS) await expectOutcome(door, ALICE.user, ALICE.password, 'fail');
  }, LONG);

  it('an application code is accepted on every door; Last Used shows the service, the client IP and the app', async () => {
    for (const door of DIRECT_DOORS) {
      const name = `direct-${door.service}`;
      const code = await addAppCode(configPath, 'alice', name);
      await expectOutcome(door, 'alice', code, 'ok');
      const row = await lastUsed(name, door.service);
      expect(row.lastUsedProtocol, door.name).toBe(door.service);
      expect(row.lastUsedIp, door.name).toBe(CLIENT);
      if (door.service === 'imap') expect(row.lastUsedClient).toBe('DoorTest 1.0');
    }
    const proxied = await addAppCode(configPath, 'alice', 'proxied');
    for (const door of PROXY_DOORS) {
      await expectOutcome(door, 'alice', proxied, 'ok');
      expect((await lastUsed('proxied', door.service)).lastUsedProtocol).toBe(door.service);
    }
  }, LONG);
});

/** IMAP AUTHENTICATE CRAM-MD5: a mechanism that needs the stored password (the Lua passdb's lookup). */
async function cramMd5(user: string, password: string): Promise<string> {
  const c = await RawImapClient.connect({ port: dovecot.imapPort, localAddress: CLIENT });
  try {
    await c.greeting();
    c.write('c1 AUTHENTICATE CRAM-MD5\r\n');
    const challenge = Buffer.from((await c.until(/^\+ /)).slice(2), 'base64').toString('latin1');
    const digest = createHmac('md5', password).update(challenge, 'latin1').digest('hex');
    c.write(`${Buffer.from(`${user} ${digest}`).toString('base64')}\r\n`);
    return await c.until(/^c1 /);
  } finally {
    c.close();
  }
}

describe('mechanisms that need the stored password (CRAM-MD5)', () => {
  it('refuse a two-step account, and leave any other to Dovecot', async () => {
    expect(await cramMd5('alice', ALICE.password)).toMatch(/^c1 NO \[AUTHENTICATIONFAILED\]/);
    expect(await cramMd5('bob', BOB.password)).toMatch(/^c1 OK/);
  }, LONG);
});

describe("the portal's sign-in", () => {
  it("checks a two-step account's main password through the guarded Dovecot (a one-time pass in ID)", async () => {
    const browser = browserFor({ url: `http://127.0.0.1:${proxy.portal}` } as Harness);
    const ok = await browser.signIn('alice', ALICE.password);
    expect(ok.status, ok.body.slice(0, 300)).toBe(303);
    expect(ok.location).toBe('/sign-in/code');
    const wrong = await browserFor({ url: `http://127.0.0.1:${proxy.portal}` } as Harness).signIn('alice', 'not-alices-password');
    expect(wrong.status).not.toBe(303);
  }, LONG);

  it('a pass sent to Dovecot by anyone else is worth nothing', async () => {
    const c = await RawImapClient.connect({ port: dovecot.imapPort, localAddress: CLIENT });
    try {
      await c.greeting();
      await c.command('ID ("name" "twostep portal" "x-twostep-check" "AAAAAAAAAAAAAAAAAAAAAA")');
      expect(await c.command(`LOGIN alice "${ALICE.password}"`)).toMatch(/^t2 NO \[AUTHENTICATIONFAILED\]/m);
    } finally {
      c.close();
    }
  }, LONG);
});

describe('an account without two-step authentication', () => {
  it('signs in everywhere with its password, unchanged; a wrong password is still refused', async () => {
    for (const door of ALL_DOORS) await expectOutcome(door, BOB.user, BOB.password, 'ok');
    for (const door of DIRECT_DOORS) await expectOutcome(door, BOB.user, 'not-bobs-password', 'fail');
  }, LONG);
});

describe('revoke', () => {
  it('refuses the code on every door at once and ends the open IMAP session at Dovecot', async () => {
    const code = await addAppCode(configPath, 'alice', 'phone');
    // Twice, so Dovecot's auth cache (on here) would have had every chance to keep it.
    for (const door of ALL_DOORS) await expectOutcome(door, 'alice', code, 'ok');
    await expectOutcome(DIRECT_DOORS[0] as Door, 'alice', code, 'ok');
    const session = await RawImapClient.connect({ port: dovecot.imapPort, localAddress: CLIENT });
    await session.greeting();
    expect(await session.command(`LOGIN alice "${code}"`)).toMatch(/^t1 OK/m);
    expect(await session.command('SELECT INBOX')).toMatch(/^t2 OK/m);

    const revoke = await cli('appcode', 'revoke', 'alice', 'phone');
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stderr).toBe('');
    // The CLI ran `doveadm kick alice` before it exited: Dovecot has closed the session (the
    // deadline only bounds a busy machine's delivery of that close).
    await session.waitClosed(30_000);
    for (const door of ALL_DOORS) await expectOutcome(door, 'alice', code, 'fail');
  }, LONG);

  it('two-step turned off: the account is Dovecot\'s again (main password works, codes do not)', async () => {
    const code = await addAppCode(configPath, 'alice', 'laptop');
    await expectOutcome(DIRECT_DOORS[0] as Door, 'alice', code, 'ok');
    const off = await cli('disable', 'alice');
    expect(off.code, off.stderr).toBe(0);
    for (const door of DIRECT_DOORS) {
      await expectOutcome(door, 'alice', code, 'fail');
      await expectOutcome(door, 'alice', ALICE.password, 'ok');
    }
    await enableTwoStep(configPath, 'alice');
  }, LONG);
});

describe('twostep stopped', () => {
  it('every direct login gets a temporary failure (Postfix: a refusal), never an accept on the main password', async () => {
    const code = await addAppCode(configPath, 'alice', 'while-down');
    await serve.stop();
    try {
      for (const door of DIRECT_DOORS) {
        // Postfix 3.7 words Dovecot's temporary failure as 535 (it does not read Dovecot 2.3's
        // code=temp_fail); what matters there is that nobody is let in.
        const expected = door.service === 'smtp' ? 'fail' : 'tempfail';
        await expectOutcome(door, 'alice', ALICE.password, expected);
        await expectOutcome(door, 'alice', code, expected);
        // Fail closed for everyone: Dovecot cannot tell who has two-step authentication.
        await expectOutcome(door, 'bob', BOB.password, expected);
      }
      expect(dovecot.log()).toMatch(/twostep: verify service unreachable \(\S+verify\.sock: [^;]+; \S+standby\.sock: /);
    } finally {
      serve = await startServe(configPath, 60_000);
    }
    await expectOutcome(DIRECT_DOORS[0] as Door, 'alice', code, 'ok');
  }, LONG);

  it('a second instance on the same store takes over (TWOSTEP_VERIFY lists both sockets)', async () => {
    const code = await addAppCode(configPath, 'alice', 'standby-app');
    const standbyConfig = writeTestConfig({
      dir,
      cert,
      backendImapPort: dovecot.imapPort,
      listen: '',
      listenTls: '',
      fileName: 'standby.toml',
      dovecot: { verify_socket: standbySocket, verify_socket_group: 'dovecot', kick_command: [] },
    });
    await serve.stop();
    const standby = await startServe(standbyConfig, 60_000);
    try {
      for (const door of DIRECT_DOORS) {
        await expectOutcome(door, 'alice', code, 'ok');
        await expectOutcome(door, 'alice', ALICE.password, 'fail');
        await expectOutcome(door, 'bob', BOB.password, 'ok');
      }
    } finally {
      await standby.stop();
      serve = await startServe(configPath, 60_000);
    }
  }, LONG);
});
