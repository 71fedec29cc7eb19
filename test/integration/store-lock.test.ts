import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { makeTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 12, point 2: another process holds the database's write lock for 15 s (BEGIN EXCLUSIVE,
 * as a backup or a long CLI transaction would). A real `serve` in front of a real Dovecot must go
 * on answering: greetings on every listener and logins of other users within 100 ms (p99) of what
 * they take unlocked, measured in the same run; an application-code login during the lock is
 * accepted, and its audit event and Last Used reach the database once the lock goes.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LOCK_MS = 15_000;
const ROUNDS = 30;
/** The requirement: p99 while locked within this of p99 unlocked. */
const P99_MARGIN_MS = 100;
/** Nothing may take this long while locked (on main a greeting waited up to 9.6 s). */
const ABSOLUTE_CAP_MS = 2_000;

/** The other process: takes the write lock, says so, keeps it LOCK_MS, lets go, says so. */
const LOCKER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { timeout: 10000 });
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
`;

let dovecot: DovecotInstance;
let serve: ServeProcess;
let dir: string;
let dbPath: string;
const ports = { imap: 0, imaps: 0, pop3: 0, pop3s: 0 };
const codes: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-lock-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
      { user: 'carol', password: 'carol-main-pw' },
    ],
    master: MASTER,
  });
  const cert = makeTestCert(dir);
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${ports.imap}`,
    listenTls: `127.0.0.1:${ports.imaps}`,
    pop3: { listen: `127.0.0.1:${ports.pop3}`, listenTls: `127.0.0.1:${ports.pop3s}`, backendPort: dovecot.pop3Port },
  });
  dbPath = join(dir, 'data', 'twostep.db');
  for (const u of ['bob', 'carol']) {
    await enableTwoStep(configPath, u);
    codes[u] = await addAppCode(configPath, u, 'Phone');
  }
  serve = await startServe(configPath);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function greeting(port: number, tls: boolean): Promise<number> {
  const t0 = performance.now();
  const text = new SocketText(await connectTestSocket({ port, tls }), 'utf8');
  await text.until(/^(\* OK|\+OK)/, 10_000);
  const ms = performance.now() - t0;
  text.socket.destroy();
  return ms;
}

/** Implicit TLS, greeting, LOGIN: the time until the tagged answer; returns it and the answer. */
async function login(user: string, secret: string, localAddress?: string): Promise<{ ms: number; answer: string }> {
  const t0 = performance.now();
  const c = await RawImapClient.connect({ port: ports.imaps, tls: true, ...(localAddress ? { localAddress } : {}) });
  try {
    await c.greeting();
    const answer = await c.command(`LOGIN ${user} ${secret}`);
    return { ms: performance.now() - t0, answer };
  } finally {
    c.close();
  }
}

type Samples = Record<string, number[]>;

/** ROUNDS rounds of every kind, interleaved (one of each per round); every login must succeed. */
async function measure(): Promise<Samples> {
  const s: Samples = { 'imap greeting': [], 'imaps greeting': [], 'pop3 greeting': [], 'pop3s greeting': [], 'passthrough login': [], 'app-code login': [] };
  for (let i = 0; i < ROUNDS; i++) {
    s['imap greeting']?.push(await greeting(ports.imap, false));
    s['imaps greeting']?.push(await greeting(ports.imaps, true));
    s['pop3 greeting']?.push(await greeting(ports.pop3, false));
    s['pop3s greeting']?.push(await greeting(ports.pop3s, true));
    const pass = await login('alice', 'alice-main-pw');
    expect(pass.answer).toMatch(/^t1 OK/m);
    s['passthrough login']?.push(pass.ms);
    const app = await login('bob', codes.bob as string);
    expect(app.answer).toMatch(/^t1 OK/m);
    s['app-code login']?.push(app.ms);
  }
  return s;
}

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function startLocker(): { child: ChildProcess; locked: Promise<void>; released: Promise<void>; isReleased: () => boolean } {
  const child = spawn(process.execPath, ['-e', LOCKER, dbPath, String(LOCK_MS)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let released = false;
  const seen = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(word)) resolve();
      };
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('released')) released = true;
        check();
      });
      child.once('exit', (code) => (out.includes(word) ? resolve() : reject(new Error(`locker exited ${code} before "${word}"`))));
    });
  return { child, locked: seen('locked'), released: seen('released'), isReleased: () => released };
}

const dbRead = <T>(sql: string, ...params: unknown[]): T[] => {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
};

/** Polls until `f` holds (writes queued during the lock land within ~100 ms of its end). */
async function eventually(f: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a database locked for 15 s by another process (real serve, real Dovecot)', () => {
  it('greetings and other users\' logins stay within 100 ms (p99) of unlocked; an app-code login is accepted and audited once the lock goes', async () => {
    // Warm up (TLS session setup, argon2 of bob's code once: later logins hit the login cache).
    await login('bob', codes.bob as string);
    await login('alice', 'alice-main-pw');
    const unlocked = await measure();

    const locker = startLocker();
    await locker.locked;
    const lockedAt = performance.now();
    const locked = await measure();
    // carol's first login (argon2, reads only) from another address, during the lock.
    const carol = await login('carol', codes.carol as string, '127.0.0.2');
    const spentMs = performance.now() - lockedAt;
    expect(locker.isReleased(), `the measurement took ${Math.round(spentMs)} ms, longer than the lock`).toBe(false);
    expect(carol.answer).toMatch(/^t1 OK/m);

    const rows = Object.keys(unlocked).map((kind) => {
      const u = unlocked[kind] as number[];
      const l = locked[kind] as number[];
      return { kind, unlockedP99: Math.round(percentile(u, 99)), lockedP99: Math.round(percentile(l, 99)), lockedMax: Math.round(Math.max(...l)) };
    });
    console.log(`store-lock (${ROUNDS} samples each, ms):\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
    for (const r of rows) {
      expect(r.lockedMax, `${r.kind}: a sample took ${r.lockedMax} ms while locked`).toBeLessThan(ABSOLUTE_CAP_MS);
      expect(r.lockedP99, `${r.kind}: p99 ${r.lockedP99} ms locked vs ${r.unlockedP99} ms unlocked`).toBeLessThan(r.unlockedP99 + P99_MARGIN_MS);
    }

    // Nothing of the lock period reached the database yet; all of it does once the lock goes.
    expect(dbRead<{ n: number }>(`SELECT count(*) AS n FROM audit_events WHERE username = 'carol' AND event = 'login.ok'`)[0]?.n).toBe(0);
    await locker.released;
    await eventually(() => dbRead(`SELECT 1 FROM audit_events WHERE username = 'carol' AND event = 'login.ok' AND ip = '127.0.0.2'`).length === 1);
    await eventually(() => dbRead(`SELECT 1 FROM app_codes WHERE last_used_ip = '127.0.0.2' AND revoked_at IS NULL`).length === 1);
    // None lost: one login.ok per successful login (warm-up + unlocked + locked rounds).
    const logins = ROUNDS * 2 + 1;
    await eventually(() => {
      const n = Object.fromEntries(
        dbRead<{ username: string; n: number }>(`SELECT username, count(*) AS n FROM audit_events WHERE event = 'login.ok' GROUP BY username`).map((r) => [r.username, r.n]),
      );
      return n.alice === logins && n.bob === logins && n.carol === 1;
    });
    const log = serve.log();
    expect(log).toMatch(/"event":"store\.locked"/);
    expect(log).toMatch(/"event":"store\.unlocked"/);
    expect(log).not.toMatch(/"event":"(audit\.write-failed|store\.write-failed|store\.write-dropped|store\.writes-lost)"/);
  }, 120_000);
});
