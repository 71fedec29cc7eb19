import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { oneTimeCodes, PortalHttp } from '../helpers/portal-http.js';
import { freePort } from '../helpers/ports.js';
import { startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { makeTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 15 part 3 against the harness's real Postfix: every event sends exactly one notice to
 * the user's mailbox (delivered by Postfix into Dovecot, read back over IMAP), none holds a code
 * or a key, each has one link, the portal; and a Postfix that is down delays notices without
 * touching a login. twostep hands notices to Postfix's submission service over STARTTLS (its
 * certificate verified) and logs in as the user "notices", which may send as twostep@test.example.
 */

const DOMAIN = 'test.example';
const USERS = [
  { user: 'alice', password: 'alice-main-pw' },
  { user: 'bob', password: 'bob-main-pw' },
  { user: 'carol', password: 'carol-main-pw' },
  { user: 'dave', password: 'dave-main-pw' },
  { user: 'notices', password: 'notices-pw' },
];

let dir: string;
let cert: { cert: string; key: string };
let dovecot: DovecotInstance;
let postfix: PostfixInstance;

/** Every secret the tests handled: none may appear in a notice. */
const secrets: string[] = USERS.map((u) => u.password);

interface Instance {
  configPath: string;
  serve: ServeProcess;
  imapsPort: number;
  portalUrl: string;
}

/** twostep serve with IMAPS, the portal and [notify] towards `smtpPort`. */
async function startTwostep(name: string, smtpPort: number): Promise<Instance> {
  const imapsPort = await freePort();
  const portalPort = await freePort();
  const portalUrl = `http://127.0.0.1:${portalPort}`;
  const passwordFile = join(dir, 'notify-password');
  writeFileSync(passwordFile, 'notices-pw\n', { mode: 0o600 });
  const configPath = writeTestConfig({
    dir,
    cert,
    fileName: `${name}.toml`,
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${imapsPort}`,
    auth: { user_failures: 3, failure_window_seconds: 600 },
    portal: { listen: `127.0.0.1:${portalPort}`, public_url: `${portalUrl}/` },
    // The instances share one store (dir/data): each test uses users of its own.
    sections: {
      notify: {
        from: `twostep@${DOMAIN}`,
        smtp: `127.0.0.1:${smtpPort}`,
        smtp_tls: 'starttls',
        smtp_ca: cert.cert,
        smtp_user: 'notices',
        smtp_password_file: passwordFile,
        recipient_domain: DOMAIN,
      },
    },
  });
  return { configPath, serve: await startServe(configPath), imapsPort, portalUrl };
}

/** The notices in the user's INBOX, read over IMAP straight from Dovecot: [kind, raw message]. */
async function noticesIn(user: string): Promise<Array<{ kind: string; raw: string }>> {
  const password = USERS.find((u) => u.user === user)?.password as string;
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.imapPort, secure: false, auth: { user, pass: password }, logger: false });
  await client.connect();
  const out: Array<{ kind: string; raw: string }> = [];
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      for await (const m of client.fetch('1:*', { source: true }, { uid: true })) {
        const raw = m.source?.toString('utf8') ?? '';
        const kind = /^X-Twostep-Notice: (\S+)/m.exec(raw)?.[1];
        if (kind) out.push({ kind, raw });
      }
    } catch (err) {
      if (!/Invalid messageset|No messages/i.test(String(err))) throw err; // an empty mailbox
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  return out;
}

/** Waits (polling the mailbox) until the user has `n` notices; returns their kinds, sorted. */
async function waitForNotices(user: string, n: number, timeoutMs = 45_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await noticesIn(user);
    if (got.length >= n || Date.now() > deadline) return got.map((x) => x.kind).sort();
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Polls `test` until it holds or `timeoutMs` passed; returns its last value. */
async function until(test: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!test() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return test();
}

/** Notices in the (shared) store not sent yet: neither sent nor given up. */
function pendingNotices(): number {
  const db = new BetterSqlite3(join(dir, 'data', 'twostep.db'), { readonly: true, timeout: 5_000 });
  try {
    return (db.prepare('SELECT count(*) AS n FROM mail_notices WHERE sent_at IS NULL AND failed_at IS NULL').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const sentCount = (s: ServeProcess): number => (s.log().match(/"event":"notice\.sent"/g) ?? []).length;

async function imapLogin(port: number, user: string, secret: string, localAddress?: string): Promise<string> {
  const c = await RawImapClient.connect({ port, tls: true, ...(localAddress ? { localAddress } : {}) });
  try {
    await c.greeting();
    return await c.command(`LOGIN ${user} ${secret}`);
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-notices-'));
  cert = makeTestCert(dir);
  dovecot = await startDovecot({ users: USERS, master: MASTER });
  postfix = await startPostfix({
    lmtpSocket: dovecot.lmtpSocket,
    saslPath: `inet:127.0.0.1:${dovecot.authPort}`,
    tls: cert,
    domain: DOMAIN,
    senderLogins: { [`twostep@${DOMAIN}`]: 'notices' },
  });
}, 90_000);

afterAll(async () => {
  await postfix?.stop();
  await dovecot?.stop();
});

describe('notices through the real Postfix', { timeout: 150_000 }, () => {
  it('each event sends exactly one notice, read back over IMAP; none holds a code or a key', async () => {
    const t = await startTwostep('notices', postfix.submissionPort);
    const cli = (...args: string[]) => runCli(['--config', t.configPath, ...args]);
    try {
      const expected: string[] = [];
      const step = async (kinds: string[], what: () => Promise<unknown>) => {
        await what();
        expected.push(...kinds);
        expect(await waitForNotices('alice', expected.length)).toEqual([...expected].sort());
      };
      await step(['two-step-on'], async () => secrets.push((await enableTwoStep(t.configPath, 'alice')).key));
      let code = '';
      await step(['app-code-added'], async () => secrets.push((code = await addAppCode(t.configPath, 'alice', 'Phone'))));
      // The code's first sign-in is from a network new to it; another address of the same /24 is not.
      await step(['new-network'], async () => {
        expect(await imapLogin(t.imapsPort, 'alice', code)).toMatch(/^t1 OK/m);
        expect(await imapLogin(t.imapsPort, 'alice', code, '127.0.0.2')).toMatch(/^t1 OK/m);
      });
      await step(['new-network'], async () => expect(await imapLogin(t.imapsPort, 'alice', code, '127.0.1.1')).toMatch(/^t1 OK/m));
      await step(['one-time-codes-regenerated'], async () => secrets.push(...(await cli('codes', 'regenerate', 'alice')).stdout.trim().split('\n').slice(1)));
      // A portal sign-in with a one-time code, from a browser never seen: two notices; the same browser again: none.
      const browser = new PortalHttp(t.portalUrl);
      const nextCode = await oneTimeCodes(t.configPath, 'alice');
      await step(['new-browser', 'one-time-code-used'], () => browser.signIn('alice', 'alice-main-pw', nextCode));
      await step(['one-time-code-used'], () => browser.signIn('alice', 'alice-main-pw', nextCode));
      await step(['app-code-revoked'], () => cli('appcode', 'revoke', 'alice', 'Phone'));
      await step(['two-step-off'], () => cli('disable', 'alice'));

      // bob (no two-step): wrong passwords until his guessing bound refuses: one notice.
      for (let i = 0; i < 3; i++) expect(await imapLogin(t.imapsPort, 'bob', 'wrong-password')).toMatch(/^t1 NO/m);
      for (let i = 0; i < 2; i++) expect(await imapLogin(t.imapsPort, 'bob', 'bob-main-pw')).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
      expect(await waitForNotices('bob', 1)).toEqual(['account-locked']);

      // Nothing more arrives once the queue is empty: exactly one each.
      expect(await until(() => sentCount(t.serve) >= expected.length + 1)).toBe(true);
      expect(pendingNotices()).toBe(0);
      expect(sentCount(t.serve)).toBe(expected.length + 1);
      const all = [...(await noticesIn('alice')), ...(await noticesIn('bob'))];
      expect(all.map((n) => n.kind).sort()).toEqual([...expected, 'account-locked'].sort());
      for (const n of all) {
        for (const s of secrets) expect(n.raw, n.kind).not.toContain(s);
        expect(n.raw.match(/https?:\/\/\S+/g), n.kind).toEqual([`${t.portalUrl}/`]);
        expect(n.raw).toMatch(new RegExp(`^From: twostep@${DOMAIN}\\r?$`, 'm'));
        expect(n.raw).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
      }
      const words = (kind: string) => all.find((n) => n.kind === kind)?.raw.replace(/\r?\n/g, ' ') ?? '';
      expect(words('new-network')).toContain('"Phone" signed in over IMAP from a network it had not signed in from before: 127.0.0.0/24');
      expect(words('account-locked')).toMatch(/Subject: Too many failed sign-ins .*wrong passwords or codes were entered for your account bob@test\.example/);
    } finally {
      await t.serve.stop();
    }
  });

  it('warns a week before a code expires (the scan at start), once', async () => {
    const t = await startTwostep('expiry', postfix.submissionPort);
    try {
      await enableTwoStep(t.configPath, 'carol');
      const add = await runCli(['--config', t.configPath, 'appcode', 'add', 'carol', 'Laptop', '--expires-days', '7']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/Laptop\): all, expires \d{4}-\d\d-\d\d \d\d:\d\d\./);
      expect(await waitForNotices('carol', 2)).toEqual(['app-code-added', 'two-step-on']);
      await t.serve.stop();
      t.serve = await startServe(t.configPath); // the scan runs at start (then every 10 minutes)
      expect(await waitForNotices('carol', 3)).toEqual(['app-code-added', 'code-expiring', 'two-step-on']);
      await t.serve.stop();
      t.serve = await startServe(t.configPath); // scans again: nothing new
      expect(await until(() => pendingNotices() === 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 3_000)); // a sender round or two
      expect(pendingNotices()).toBe(0);
      expect(sentCount(t.serve)).toBe(0);
      const expiring = (await noticesIn('carol')).filter((n) => n.kind === 'code-expiring');
      expect(expiring).toHaveLength(1);
      expect(expiring[0]?.raw).toMatch(/Subject: Application code expires soon/);
      expect(expiring[0]?.raw.replace(/\r?\n/g, ' ')).toContain('Your application code "Laptop" expires on');
    } finally {
      await t.serve.stop();
    }
  });

  it('a Postfix that is down (it takes the connection and never answers) delays notices and never a login; they arrive once it is back', async () => {
    // Between twostep and Postfix: first a black hole (connections are held, nothing is said),
    // then, once "back", a plain TCP relay to the real Postfix.
    const port = await freePort();
    const held: net.Socket[] = [];
    let up = false;
    const relay = net.createServer((c) => {
      c.on('error', () => {});
      if (!up) {
        held.push(c);
        return;
      }
      const pf = net.connect({ host: '127.0.0.1', port: postfix.submissionPort });
      pf.on('error', () => c.destroy());
      c.pipe(pf).pipe(c);
    });
    await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
    const t = await startTwostep('down', port);
    try {
      await enableTwoStep(t.configPath, 'dave'); // two-step-on ...
      const code = await addAppCode(t.configPath, 'dave', 'Tablet'); // ... and app-code-added wait
      expect(await until(() => held.length > 0)).toBe(true); // the sender is stuck on the silent server
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        expect(await imapLogin(t.imapsPort, 'dave', code)).toMatch(/^t1 OK/m);
        expect(Date.now() - started, 'a login waits for no mail server').toBeLessThan(10_000);
      }
      expect(await noticesIn('dave')).toEqual([]);
      expect(pendingNotices()).toBeGreaterThanOrEqual(3); // two-step-on, app-code-added, new-network
      // Postfix is back: the held connection drops (the sender tries again later), new ones reach Postfix.
      up = true;
      for (const c of held) c.destroy();
      expect(await waitForNotices('dave', 3, 60_000)).toEqual(['app-code-added', 'new-network', 'two-step-on']);
      expect(t.serve.log()).toMatch(/"event":"notice\.retry"[^\n]*"kind":"two-step-on"/);
      expect(t.serve.log()).toMatch(/"event":"notice\.sent"[^\n]*"kind":"two-step-on"[^\n]*"attempts":2/);
    } finally {
      relay.close();
      for (const c of held) c.destroy();
      await t.serve.stop();
    }
  });
});
