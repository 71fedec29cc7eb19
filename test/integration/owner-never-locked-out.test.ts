import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/index.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { CookieJar, send, type HttpResponse } from '../helpers/http-client.js';
import { csrfOf } from '../helpers/portal-harness.js';
import { freePort } from '../helpers/ports.js';
import { postfixSnippet, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { RawSmtpClient } from '../helpers/raw-smtp-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 10 points 2, 4 and 5 against the real Dovecot and Postfix through a real `serve`:
 * strangers' wrong passwords never lock the owner out (IMAP, POP3, SMTP, portal); guessing a
 * passthrough password stays bounded; master-user spellings never reach Dovecot; every refusal
 * reads and lasts alike. Strangers come from 127.0.1.x, the owner from 127.0.0.100 (another /24).
 */

const DOMAIN = 'test.example';
const OWNER_IP = '127.0.0.100';
const strangerIp = (i: number) => `127.0.1.${2 + (i % 50)}`;

let dir: string;
let dovecot: DovecotInstance;
let postfix: PostfixInstance;
let serve: ServeProcess;
let configPath: string;
const ports = { imap: 0, pop3: 0, smtp: 0, portal: 0 };
let aliceKey: string;
let aliceCode: string;
let aliceOneTime: string[];

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function imapLogin(user: string, password: string, localAddress: string): Promise<{ answer: string; ms: number }> {
  const c = await RawImapClient.connect({ port: ports.imap, tls: true, localAddress });
  try {
    await c.greeting();
    const started = performance.now();
    const answer = await c.command(`LOGIN ${JSON.stringify(user)} ${JSON.stringify(password)}`);
    return { answer, ms: performance.now() - started };
  } finally {
    c.close();
  }
}

async function pop3Login(user: string, password: string, localAddress: string): Promise<string> {
  const t = new SocketText(await connectTestSocket({ port: ports.pop3, tls: true, localAddress }), 'utf8');
  try {
    await t.until(/^\+OK/m);
    t.socket.write(`USER ${user}\r\n`);
    await t.until(/^(\+OK|-ERR)/m);
    t.socket.write(`PASS ${password}\r\n`);
    return await t.until(/^(\+OK|-ERR).*$/m);
  } finally {
    t.socket.destroy();
  }
}

async function smtpLogin(user: string, password: string, localAddress: string): Promise<string> {
  const c = await RawSmtpClient.connect({ port: ports.smtp, tls: true, localAddress });
  try {
    await c.reply();
    await c.command('EHLO client.test');
    return await c.command(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`);
  } finally {
    c.close();
  }
}

/** A browser at `ip`: a cookie jar, GET and form POST with the page's CSRF token. */
function browser(ip: string) {
  const jar = new CookieJar();
  let csrf = '';
  const go = async (path: string, body?: Record<string, string>): Promise<HttpResponse> => {
    const res = await send(`http://127.0.0.1:${ports.portal}${path}`, {
      localAddress: ip,
      ...(body
        ? { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...body }).toString() }
        : { headers: { cookie: jar.header() } }),
    });
    jar.take(res);
    csrf = csrfOf(res.body) || csrf;
    return res;
  };
  return {
    jar,
    get: (path: string) => go(path),
    post: async (path: string, body: Record<string, string> = {}) => {
      await go(path); // the page with the form (and its CSRF token)
      return go(path, body);
    },
    async signIn(user: string, password: string, code?: string, o: { trust?: boolean } = {}): Promise<HttpResponse> {
      await go('/sign-in');
      const first = await go('/sign-in', { email: user, password });
      if (first.status !== 303 || first.location !== '/sign-in/code' || code === undefined) return first;
      await go('/sign-in/code');
      return go('/sign-in/code', { code, ...(o.trust ? { trust: '1' } : {}) });
    },
    /** The next day: the session cookie is gone, the browser's other cookies stay. */
    endSession(): void {
      jar.values.delete('twostep_session');
    },
  };
}

/** Runs `n` jobs, `width` at a time. */
async function pool<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-owner-'));
  const cert = sharedTestCert();
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  const submission = await freePort();
  postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
    tls: cert,
    domain: DOMAIN,
    senderLogins: { [`alice@${DOMAIN}`]: 'alice', [`bob@${DOMAIN}`]: 'bob' },
    extraServices: postfixSnippet('master.cf-master-mode', { port: submission, saslPath: `inet:127.0.0.1:${dovecot.authPort}` }),
  });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${ports.imap}`,
    backendCa: cert.cert,
    pop3: { listen: '', listenTls: `127.0.0.1:${ports.pop3}`, backendPort: dovecot.pop3Port },
    smtp: { listen: '', listenTls: `127.0.0.1:${ports.smtp}`, backendPort: submission, backendTls: 'starttls', backendLogin: 'master' },
    portal: { listen: `127.0.0.1:${ports.portal}` },
    // Production bounds (100 per address, 10 per account, 5 minutes); a short failure delay.
    auth: { ip_failures: 100, user_failures: 10, failure_window_seconds: 300, failure_delay_ms: 200 },
  });
  ({ key: aliceKey } = await enableTwoStep(configPath, 'alice'));
  aliceCode = await addAppCode(configPath, 'alice', 'Phone');
  const shown = await runCli(['--config', configPath, 'codes', 'show', 'alice']);
  aliceOneTime = [...shown.stdout.matchAll(/\b(\d{4} ?\d{4})\b/g)].map((m) => (m[1] as string).replace(' ', ''));
  serve = await startServe(configPath);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await postfix?.stop();
  await dovecot?.stop();
});

describe('nobody locks the owner out', () => {
  it('600 wrong passwords for alice from 50 addresses on every door: her application code and her portal sign-in keep working', async () => {
    expect(aliceOneTime.length).toBe(10);
    // She signed in to the portal from home with this browser before (password + a one-time code).
    const home = browser(OWNER_IP);
    expect((await home.signIn('alice', 'alice-main-pw', aliceOneTime[0])).location).toBe('/preferences/accounts');

    let attacking = true;
    const owner = (async () => {
      let rounds = 0;
      while (attacking || rounds === 0) {
        expect((await imapLogin('alice', aliceCode, OWNER_IP)).answer, 'IMAP').toMatch(/^t1 OK/m);
        expect(await pop3Login('alice', aliceCode, OWNER_IP), 'POP3').toMatch(/^\+OK/);
        expect(await smtpLogin('alice', aliceCode, OWNER_IP), 'SMTP').toMatch(/^235 /);
        rounds++;
      }
      return rounds;
    })();
    const doors = [
      (i: number) => imapLogin(['alice', 'ALICE', ' Alice'][i % 3] as string, `guess-${i}`, strangerIp(i)).then((r) => r.answer),
      (i: number) => pop3Login('Alice', `guess-${i}`, strangerIp(i)),
      (i: number) => smtpLogin('alice', `guess-${i}`, strangerIp(i)),
      (i: number) => browser(strangerIp(i)).signIn('alice', `guess-${i}`).then((r) => String(r.status)),
    ];
    const refusals = await pool(600, 24, (i) => (doors[i % doors.length] as (i: number) => Promise<string>)(i));
    attacking = false;
    expect(await owner).toBeGreaterThan(0);
    expect(refusals.filter((r) => /^(t1 OK|\+OK|235 |303)/m.test(r))).toEqual([]);

    // After the flood: a stranger's browser is held back even with the right password...
    expect((await browser('127.0.1.99').signIn('alice', 'alice-main-pw')).status).toBe(429);
    // ...while hers signs in with password and TOTP (the next step: the enrolment used this one),
    // a day later: her session has ended, her browser is the same.
    home.endSession();
    const done = await home.signIn('alice', 'alice-main-pw', totpCode(aliceKey, Date.now() + 30_000));
    expect(done.status).toBe(303);
    expect(done.location).toMatch(/^\/preferences\/accounts/);
  });

  it('a passthrough password: strangers get at most user_failures checks at Dovecot however many addresses; the owner\'s network keeps working', async () => {
    expect((await imapLogin('bob', 'bob-main-pw', OWNER_IP)).answer).toMatch(/^t1 OK/m); // bob at home, once
    const failedAtDovecot = () => dovecot.log().split('\n').filter((l) => /imap-login: .*auth failed.*user=<bob>/i.test(l)).length;
    const before = failedAtDovecot();
    const answers = await pool(100, 20, (i) => imapLogin('bob', `guess-${i}`, strangerIp(i)).then((r) => r.answer));
    const throttled = answers.filter((a) => /NO \[UNAVAILABLE\]/.test(a)).length;
    const refused = answers.filter((a) => /NO \[AUTHENTICATIONFAILED\]/.test(a)).length;
    expect(throttled + refused).toBe(100);
    expect(refused).toBeLessThanOrEqual(10);
    // Dovecot's own log is the witness: it logs each refusal once the client has gone.
    const deadline = Date.now() + 10_000;
    while (failedAtDovecot() - before < refused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(failedAtDovecot() - before).toBe(refused);
    expect((await imapLogin('bob', 'bob-main-pw', OWNER_IP)).answer).toMatch(/^t1 OK/m);
  });
});

describe('master-user spellings never reach Dovecot (issue 10 point 4)', () => {
  it('alice*proxymaster with the master password is refused on IMAP, POP3 and SMTP, before any backend contact', async () => {
    const spelled = `alice*${MASTER.user}`;
    const logBefore = dovecot.log().length;
    expect((await imapLogin(spelled, MASTER.password, OWNER_IP)).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    expect(await pop3Login(spelled, MASTER.password, OWNER_IP)).toMatch(/^-ERR \[AUTH\]/);
    expect(await smtpLogin(spelled, MASTER.password, OWNER_IP)).toMatch(/^535 /);
    expect((await imapLogin(MASTER.user, MASTER.password, OWNER_IP)).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    expect(dovecot.log().slice(logBefore)).not.toContain(MASTER.user);
  });
});

describe('one refusal for everyone (issue 10 point 5)', () => {
  it('a two-step account, an unknown user and a wrong passthrough password: the same words, medians within 50 ms', async () => {
    const cases = { twoStep: ['alice', 'alice-main-pw'], unknown: ['nobody-here', 'some-password'], wrong: ['bob', 'wrong-password'] } as const;
    const times: Record<string, number[]> = { twoStep: [], unknown: [], wrong: [] };
    const texts = new Set<string>();
    // bob at home (his own typos stay within his home's bound: 2 + 7 < user_failures); twostep
    // learns how long Dovecot takes to refuse from the refusals it relays.
    expect((await imapLogin('bob', 'bob-main-pw', OWNER_IP)).answer).toMatch(/^t1 OK/m);
    for (let i = 0; i < 2; i++) await imapLogin('bob', `warm-up-${i}`, OWNER_IP);
    for (let round = 0; round < 7; round++) {
      for (const [name, [user, password]] of Object.entries(cases)) {
        const r = await imapLogin(user, password, OWNER_IP);
        texts.add(r.answer.trim().replace(/^t1 /, ''));
        times[name]?.push(r.ms);
      }
    }
    expect([...texts]).toEqual(['NO [AUTHENTICATIONFAILED] Authentication failed. If this account uses two-step authentication, sign in with an application code.']);
    const medians = Object.values(times).map(median);
    expect(Math.max(...medians) - Math.min(...medians), JSON.stringify(medians)).toBeLessThanOrEqual(50);
  });
});

describe('revoking a device ends the sessions it opened (issue 10 point 7)', () => {
  it('"revoke all other devices" and "revoke this device" sign out the sessions those devices\' trust opened', async () => {
    const otc = aliceOneTime.slice(1);
    const signedIn = async (b: ReturnType<typeof browser>) => (await b.get('/preferences/accounts')).status === 200;
    // A laptop, trusted at a sign-in with a one-time code; the next day its trust skips the code.
    const laptop = browser(OWNER_IP);
    expect((await laptop.signIn('alice', 'alice-main-pw', otc[0], { trust: true })).location).toBe('/preferences/accounts');
    laptop.endSession();
    expect((await laptop.signIn('alice', 'alice-main-pw')).location).toBe('/preferences/accounts'); // trusted: no code
    expect(await signedIn(laptop)).toBe(true);
    // Another browser revokes all other devices: the laptop's session ends at once.
    const desk = browser(OWNER_IP);
    expect((await desk.signIn('alice', 'alice-main-pw', otc[1])).location).toBe('/preferences/accounts');
    expect((await desk.post('/devices/revoke-others')).location).toBe('/preferences/accounts?done=devices-revoked');
    expect(await signedIn(laptop)).toBe(false);
    expect(await signedIn(desk)).toBe(true);

    // A phone browser trusted, then two sessions of it; "revoke this device" from one ends the other.
    const phone = browser(OWNER_IP);
    expect((await phone.signIn('alice', 'alice-main-pw', otc[2], { trust: true })).location).toBe('/preferences/accounts');
    const phoneTab = browser(OWNER_IP);
    for (const [k, v] of phone.jar.values) if (k !== 'twostep_session') phoneTab.jar.values.set(k, v);
    expect((await phoneTab.signIn('alice', 'alice-main-pw')).location).toBe('/preferences/accounts'); // by its trust
    expect((await phone.post('/devices/revoke-this')).location).toBe('/preferences/accounts?done=device-revoked');
    expect(await signedIn(phoneTab)).toBe(false);
    expect(await signedIn(phone)).toBe(true);
  });
});
