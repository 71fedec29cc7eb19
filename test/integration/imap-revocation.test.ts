import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Revocation reaches sessions that are already open: the admin revokes an application code (or
 * turns two-step off, or disallows it) with the CLI, in another process, and `twostep serve`
 * closes the live sessions signed in with it within [auth] revocation_poll_seconds (1 here).
 * Sessions on other codes, and passthrough sessions, stay.
 */

const MESSAGE = (to: string) =>
  `From: sender@example.com\r\nTo: ${to}\r\nSubject: Hello ${to}\r\nDate: Sat, 28 Nov 2026 06:00:00 +0000\r\nMessage-ID: <rev-${to}@example.com>\r\n\r\nHello ${to}.\r\n`;

/** Revocation is polled every second; allow for the CLI's start-up and a slow machine. */
const CLOSE_WITHIN_MS = 10_000;

let dovecot: DovecotInstance;
let serve: ServeProcess;
let dir: string;
let configPath: string;
let tlsPort: number;
const codes: Record<string, string> = {};
const clients: RawImapClient[] = [];

const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);

async function addCode(user: string, name: string): Promise<string> {
  const code = await addAppCode(configPath, user, name);
  codes[`${user}/${name}`] = code;
  return code;
}

/** Logs in over implicit TLS and selects INBOX (proof the session is proxied to Dovecot). */
async function openSession(user: string, secret: string): Promise<RawImapClient> {
  const c = await RawImapClient.connect({ port: tlsPort, tls: true });
  clients.push(c);
  await c.greeting();
  expect(await c.command(`LOGIN ${user} ${secret}`)).toMatch(/^t1 OK/m);
  const sel = await c.command('SELECT INBOX');
  expect(sel).toMatch(/^\* 1 EXISTS/m);
  expect(sel).toMatch(/^t2 OK/m);
  return c;
}

/** A NOOP answered by Dovecot: the session is still proxied. */
async function expectAlive(c: RawImapClient): Promise<void> {
  expect(await c.command('NOOP')).toMatch(/^t\d+ OK/m);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-revoke-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
      { user: 'carol', password: 'carol-main-pw' },
    ],
    master: MASTER,
  });
  for (const u of ['alice', 'bob', 'carol']) dovecot.deliver(u, MESSAGE(u));

  const cert = sharedTestCert();
  tlsPort = await freePort();
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${tlsPort}`,
    auth: { revocation_poll_seconds: 1 },
  });

  await enableTwoStep(configPath, 'bob');
  await enableTwoStep(configPath, 'carol');
  for (const name of ['Phone', 'Laptop', 'Tablet']) await addCode('bob', name);
  await addCode('carol', 'Phone');

  serve = await startServe(configPath);
}, 90_000);

// Sessions stay open across tests on purpose (the later tests check they survived); all are closed here.
afterAll(async () => {
  for (const c of clients) c.close();
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('revocation ends live IMAP sessions (real Dovecot)', () => {
  let alice: RawImapClient;
  let bobLaptop: RawImapClient;

  it('closes a session (even in IDLE) once its code is revoked; others stay', async () => {
    const bobPhone = await openSession('bob', codes['bob/Phone'] as string);
    bobLaptop = await openSession('bob', codes['bob/Laptop'] as string);
    alice = await openSession('alice', 'alice-main-pw');

    // The phone sits in IDLE, as phones do.
    bobPhone.write('idle1 IDLE\r\n');
    await bobPhone.until(/^\+ /);

    const revoke = await cli('appcode', 'revoke', 'bob', 'Phone');
    expect(revoke.code, revoke.stderr).toBe(0);
    const t0 = Date.now();
    await bobPhone.waitClosed(CLOSE_WITHIN_MS);
    expect(Date.now() - t0).toBeLessThan(CLOSE_WITHIN_MS);

    await sleep(2_000); // two more polls
    await expectAlive(bobLaptop);
    await expectAlive(alice);

    // The log names the session and the code's name, never the code.
    const revoked = serve
      .log()
      .split('\n')
      .filter((l) => l.includes('"event":"session.revoked"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ user: 'bob', codeName: 'Phone', proto: 'imap' });
    expect(revoked[0]?.cid).toEqual(expect.any(String));
    expect(serve.log()).toMatch(new RegExp(`"cid":"${String(revoked[0]?.cid)}".*"event":"close".*"reason":"revoked"`));

    const audit = JSON.parse((await cli('audit', '--user', 'bob', '--json')).stdout) as Array<{
      event: string;
      protocol: string | null;
      detail: Record<string, unknown>;
    }>;
    const entry = audit.find((e) => e.event === 'session.revoked');
    expect(entry).toMatchObject({ protocol: 'imap', detail: { codeName: 'Phone', cid: revoked[0]?.cid } });

    // And the phone cannot come back with it.
    const again = await RawImapClient.connect({ port: tlsPort, tls: true });
    clients.push(again);
    await again.greeting();
    expect(await again.command(`LOGIN bob ${codes['bob/Phone']}`)).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
  }, 40_000);

  it('`twostep disable` ends every application-code session of that user', async () => {
    const bobTablet = await openSession('bob', codes['bob/Tablet'] as string);
    const carol = await openSession('carol', codes['carol/Phone'] as string);

    const disable = await cli('disable', 'bob');
    expect(disable.code, disable.stderr).toBe(0);
    await Promise.all([bobLaptop.waitClosed(CLOSE_WITHIN_MS), bobTablet.waitClosed(CLOSE_WITHIN_MS)]);

    await sleep(2_000);
    await expectAlive(carol);
    await expectAlive(alice);
  }, 40_000);

  it('`twostep user disallow` ends that user\'s application-code sessions too', async () => {
    const carol = await openSession('carol', codes['carol/Phone'] as string);
    const disallow = await cli('user', 'disallow', 'carol');
    expect(disallow.code, disallow.stderr).toBe(0);
    await carol.waitClosed(CLOSE_WITHIN_MS);
    await expectAlive(alice);
  }, 40_000);

  it('never writes a code into its log or the audit trail', async () => {
    const audit = (await cli('audit', '--json')).stdout;
    for (const text of [serve.log(), audit]) {
      for (const code of Object.values(codes)) {
        expect(text).not.toContain(code);
        expect(text.toLowerCase()).not.toContain(code.toLowerCase());
      }
    }
  });
});
