import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whenChanged } from '../helpers/daemon-tools.mjs';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCliProcess, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 12, point 2: another process holds the database's write lock for 15 s (BEGIN EXCLUSIVE,
 * as a backup or a long CLI transaction would). A real `serve` in front of a real Dovecot must go
 * on answering: greetings on every listener and logins of other users within 100 ms (p99) of what
 * they take unlocked, measured in the same run (first unlocked, and on a control instance during
 * the lock, so that other work on a busy machine does not count as the lock's); an
 * application-code login during the lock is accepted, and its audit event and Last Used reach the
 * database once the lock goes.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LOCK_MS = 15_000;
/**
 * Rounds before the lock, and at least as many during it (more while LOCKED_BUDGET_MS lasts): 100
 * samples or more, so that p99 is not simply the slowest one.
 */
const ROUNDS = 100;
const LOCKED_BUDGET_MS = 10_000;
/** The requirement: p99 while locked within this of p99 unlocked. */
const P99_MARGIN_MS = 100;
/** Nothing may take this long while locked (on main a greeting waited up to 9.6 s). */
const ABSOLUTE_CAP_MS = 2_000;

/**
 * The other process: takes the write lock and says so; lets go (and says so) once LOCK_MS have
 * passed and the test has written a line on its stdin (on a slow machine the measurements may
 * need longer than LOCK_MS; the lock then lasts until they are done).
 */
const LOCKER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { timeout: 10000 });
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
let waited = false, asked = false;
const release = () => { if (!waited || !asked) return; db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); };
setTimeout(() => { waited = true; release(); }, Number(process.argv[2]));
process.stdin.on('data', () => { asked = true; release(); }).on('end', () => { asked = true; release(); });
`;

/** One `serve` with its own database, in front of the shared Dovecot. */
interface Instance {
  name: string;
  serve: ServeProcess;
  configPath: string;
  dbPath: string;
  ports: { imap: number; imaps: number; pop3: number; pop3s: number };
  codes: Record<string, string>;
}

let dovecot: DovecotInstance;
let root: string;
/** The one whose database gets locked. */
let subject: Instance;
/**
 * The control: the same build on its own, never locked database, sampled in the same rounds as
 * the subject. A machine busy with other work slows both alike; the locked database only the
 * subject. Its p99 while the lock lasts is a second unlocked reference, taken at the same time.
 */
let control: Instance;
/** Stopped in afterAll should a failed assertion leave it holding the lock. */
let lockerChild: ChildProcess | undefined;

async function startInstance(name: string, cert: { cert: string; key: string }): Promise<Instance> {
  const dir = join(root, name);
  mkdirSync(dir);
  const ports = { imap: await freePort(), imaps: await freePort(), pop3: await freePort(), pop3s: await freePort() };
  const configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${ports.imap}`,
    listenTls: `127.0.0.1:${ports.imaps}`,
    pop3: { listen: `127.0.0.1:${ports.pop3}`, listenTls: `127.0.0.1:${ports.pop3s}`, backendPort: dovecot.pop3Port },
    // Logins in plain text on loopback: the store is under test here, not TLS (greetings cover TLS).
    auth: { allow_plaintext: true },
  });
  const codes: Record<string, string> = {};
  for (const u of ['bob', 'carol']) {
    await enableTwoStep(configPath, u);
    codes[u] = await addAppCode(configPath, u, 'Phone');
  }
  return { name, serve: await startServe(configPath), configPath, dbPath: join(dir, 'data', 'twostep.db'), ports, codes };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'twostep-lock-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
      { user: 'carol', password: 'carol-main-pw' },
    ],
    master: MASTER,
  });
  const cert = sharedTestCert();
  subject = await startInstance('subject', cert);
  control = await startInstance('control', cert);
}, 120_000);

afterAll(async () => {
  if (lockerChild && lockerChild.exitCode === null) lockerChild.kill();
  await subject?.serve.stop();
  await control?.serve.stop();
  await dovecot?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function greeting(port: number, tls: boolean): Promise<number> {
  const t0 = performance.now();
  const text = new SocketText(await connectTestSocket({ port, tls }), 'utf8');
  await text.until(/^(\* OK|\+OK)/, 10_000);
  const ms = performance.now() - t0;
  text.socket.destroy();
  return ms;
}

/** Connect, greeting, LOGIN (plain IMAP port): the time until the tagged answer, and the answer. */
async function login(port: number, user: string, secret: string, localAddress?: string): Promise<{ ms: number; answer: string }> {
  const t0 = performance.now();
  const c = await RawImapClient.connect({ port, ...(localAddress ? { localAddress } : {}) });
  try {
    await c.greeting();
    const answer = await c.command(`LOGIN ${user} ${secret}`);
    return { ms: performance.now() - t0, answer };
  } finally {
    c.close();
  }
}

const KINDS = ['imap greeting', 'imaps greeting', 'pop3 greeting', 'pop3s greeting', 'passthrough login', 'app-code login'] as const;
type Samples = Record<(typeof KINDS)[number], number[]>;
const emptySamples = (): Samples => Object.fromEntries(KINDS.map((k) => [k, []])) as unknown as Samples;

/** One of every kind against `t`; every login must succeed. */
async function sample(t: Instance, s: Samples): Promise<void> {
  s['imap greeting'].push(await greeting(t.ports.imap, false));
  s['imaps greeting'].push(await greeting(t.ports.imaps, true));
  s['pop3 greeting'].push(await greeting(t.ports.pop3, false));
  s['pop3s greeting'].push(await greeting(t.ports.pop3s, true));
  const pass = await login(t.ports.imap, 'alice', 'alice-main-pw');
  expect(pass.answer, `${t.name} passthrough`).toMatch(/^t1 OK/m);
  s['passthrough login'].push(pass.ms);
  const app = await login(t.ports.imap, 'bob', t.codes.bob as string);
  expect(app.answer, `${t.name} app code`).toMatch(/^t1 OK/m);
  s['app-code login'].push(app.ms);
}

/** Rounds of the subject; with `withControl`, the control every other round, between them. */
async function measure(more: (round: number) => boolean, withControl: boolean): Promise<{ subject: Samples; control: Samples; rounds: number }> {
  const out = { subject: emptySamples(), control: emptySamples(), rounds: 0 };
  for (; more(out.rounds); out.rounds++) {
    await sample(subject, out.subject);
    if (withControl && out.rounds % 2 === 0) await sample(control, out.control);
  }
  return out;
}

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function startLocker(dbPath: string): { locked: Promise<void>; released: Promise<void>; isReleased: () => boolean; mayRelease: () => void } {
  const child = spawn(process.execPath, ['-e', LOCKER, dbPath, String(LOCK_MS)], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  lockerChild = child;
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const seen = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(word)) resolve();
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => (out.includes(word) ? resolve() : reject(new Error(`locker exited ${code} before "${word}"`))));
    });
  const locked = seen('locked');
  const released = seen('released');
  // Awaited later in the test; when the test ends early (a failed assertion), afterAll kills the
  // locker and these must not become unhandled rejections on top of the real failure.
  locked.catch(() => {});
  released.catch(() => {});
  return {
    locked,
    released,
    isReleased: () => out.includes('released'),
    mayRelease: () => child.stdin?.end('done\n'),
  };
}

const dbRead = <T>(sql: string): T[] => {
  const db = new BetterSqlite3(subject.dbPath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
};

/** Until `f` holds, re-checked as the database changes (writes queued during the lock land within ~100 ms of its end). */
async function eventually(f: () => boolean, timeoutMs = 15_000): Promise<void> {
  if (!(await whenChanged(dirname(subject.dbPath), f, (held) => held, timeoutMs))) throw new Error('condition never held');
}

describe('a database locked for 15 s by another process (real serve, real Dovecot)', () => {
  it('greetings and other users\' logins stay within 100 ms (p99) of unlocked; an app-code login is accepted and audited once the lock goes', async () => {
    // Warm up both (argon2 of bob's code once: later logins hit the login cache).
    for (const t of [subject, control]) await sample(t, emptySamples());
    const unlocked = await measure((round) => round < ROUNDS, false);

    const locker = startLocker(subject.dbPath);
    await locker.locked;
    const lockedAt = performance.now();
    // An admin command meanwhile: it needs the write lock, waits storeBusyMs (5 s), then says so.
    // (A process of its own, as an admin's would be: nothing of it runs in the measuring process.)
    const admin = runCliProcess(['--config', subject.configPath, 'appcode', 'add', 'bob', 'Tablet']);
    const locked = await measure((round) => round < ROUNDS || (round < 2 * ROUNDS && performance.now() - lockedAt < LOCKED_BUDGET_MS), true);
    // carol's first login (argon2, reads only) from another address, during the lock.
    const carol = await login(subject.ports.imap, 'carol', subject.codes.carol as string, '127.0.0.2');
    const refused = await admin;
    // Nothing of the lock period has reached the database yet.
    expect(dbRead(`SELECT 1 FROM audit_events WHERE username = 'carol' AND event = 'login.ok'`)).toEqual([]);
    expect(locker.isReleased(), 'the lock ended before the measurements').toBe(false);
    locker.mayRelease();
    expect(carol.answer).toMatch(/^t1 OK/m);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^twostep: the database is locked by another process.*nothing was changed: try again in a moment\n$/);

    const p99 = (xs: number[]) => Math.round(percentile(xs, 99));
    const rows = KINDS.map((kind) => ({
      kind,
      unlockedP99: p99(unlocked.subject[kind]),
      controlP99DuringLock: p99(locked.control[kind]),
      lockedP99: p99(locked.subject[kind]),
      lockedMax: Math.round(Math.max(...locked.subject[kind])),
    }));
    console.log(`store-lock: ${unlocked.rounds} rounds unlocked, ${locked.rounds} locked (ms)\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
    for (const r of rows) {
      const reference = Math.max(r.unlockedP99, r.controlP99DuringLock);
      expect(r.lockedMax, `${r.kind}: a sample took ${r.lockedMax} ms while locked`).toBeLessThan(ABSOLUTE_CAP_MS);
      expect(r.lockedP99, `${r.kind}: p99 ${r.lockedP99} ms locked vs ${reference} ms unlocked`).toBeLessThan(reference + P99_MARGIN_MS);
    }

    // All of it does once the lock goes.
    await locker.released;
    await eventually(() => dbRead(`SELECT 1 FROM audit_events WHERE username = 'carol' AND event = 'login.ok' AND ip = '127.0.0.2'`).length === 1);
    await eventually(() => dbRead(`SELECT 1 FROM app_codes WHERE last_used_ip = '127.0.0.2' AND revoked_at IS NULL`).length === 1);
    // None lost: one login.ok per successful login (warm-up + unlocked + locked rounds).
    const logins = 1 + unlocked.rounds + locked.rounds;
    await eventually(() => {
      const n = Object.fromEntries(
        dbRead<{ username: string; n: number }>(`SELECT username, count(*) AS n FROM audit_events WHERE event = 'login.ok' GROUP BY username`).map((r) => [r.username, r.n]),
      );
      return n.alice === logins && n.bob === logins && n.carol === 1;
    });
    expect(dbRead(`SELECT 1 FROM app_codes WHERE name = 'Tablet'`)).toEqual([]); // nothing half-written
    // The log line follows the write it reports, across a pipe: waited for.
    const log = await subject.serve.waitForLog(/"event":"store\.unlocked"/);
    expect(log).toMatch(/"event":"store\.locked"/);
    expect(log).toMatch(/"event":"store\.unlocked"/);
    expect(log).not.toMatch(/"event":"(audit\.write-failed|store\.write-failed|store\.write-dropped|store\.writes-lost)"/);
  }, 120_000);
});
