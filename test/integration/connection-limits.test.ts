import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePorts } from '../helpers/ports.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert } from '../helpers/tls.js';
import { MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 12 point 3: `serve` under a low open-file limit (prlimit --nofile=256) against the real
 * Dovecot. The configured max_connections does not fit and is lowered (logged); a client over
 * max_connections_per_ip hears "* BYE Too many connections from your address."; with the server
 * full new clients wait for a place (no greeting), then get one as others leave, or hear "busy";
 * every client gets a greeting or a refusal, never a silent close; the log says so, rate-limited;
 * once the clients leave, new ones are served again.
 */

const FD_LIMIT = 256;
const PER_IP = 20;
const LONG = 180_000;
const GREETING = /^\* OK /;
const BUSY = '* BYE [UNAVAILABLE] Server busy, try again later.';
const TOO_MANY = '* BYE Too many connections from your address.';

let dir: string;
let dovecot: DovecotInstance;
let serve: ServeProcess;
let port: number;
const clients: SocketText[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-limits-'));
  dovecot = await startDovecot({ users: [{ user: 'bob', password: 'bob-main-pw' }], master: MASTER });
  [port] = (await freePorts(1)) as [number];
  const path = writeTestConfig({
    dir,
    cert: sharedTestCert(),
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${port}`,
    listenTls: '',
    auth: { allow_plaintext: true },
  });
  writeFileSync(path, `${readFileSync(path, 'utf8')}[limits]\nmax_connections = 10000\nmax_connections_per_ip = ${PER_IP}\n`);
  serve = await startServe(path, 60_000, ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`]);
}, LONG);

afterAll(async () => {
  for (const c of clients) c.socket.destroy();
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A client from 127.0.0.<host>; what it hears is read later. */
async function connect(host: number): Promise<SocketText> {
  const t = new SocketText(await connectTestSocket({ port, localAddress: `127.0.0.${host}` }), 'utf8');
  clients.push(t);
  return t;
}

/** The first line the client heard (a greeting or a refusal); fails on a close without a word. */
const firstLine = (c: SocketText, timeoutMs = 20_000): Promise<string> => c.until(/./, timeoutMs);

const logLines = () =>
  serve
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function login(c: SocketText): Promise<void> {
  c.socket.write('a LOGIN bob bob-main-pw\r\n');
  expect(await c.until(/^a (OK|NO|BAD)/)).toMatch(/^a OK/m);
}

it('lowers a limit that does not fit, refuses per address, makes clients wait when full, and serves again after', async () => {
  // At start: the configured 10000 does not fit 256 files; what fits is logged.
  const lowered = logLines().find((l) => l.event === 'limits.lowered');
  expect(lowered?.msg).toMatch(new RegExp(`^limits\\.max_connections 10000 does not fit the open-file limit ${FD_LIMIT} `));
  const set = logLines().find((l) => l.event === 'limits.set') as { maxConnections: number; maxConnectionsPerIp: number; maxWaiting: number; fdLimit: number };
  expect(set).toMatchObject({ maxConnectionsPerIp: PER_IP, fdLimit: FD_LIMIT });
  const max = set.maxConnections;
  expect(max * 2 + set.maxWaiting).toBeLessThan(FD_LIMIT); // two files per session, and the waiting ones

  // One address: PER_IP clients not logged in are greeted, the next one is refused in IMAP's words.
  const first = await Promise.all(Array.from({ length: PER_IP }, () => connect(2)));
  for (const c of first) expect(await firstLine(c)).toMatch(GREETING);
  const refused = await connect(2);
  expect(await firstLine(refused)).toBe(TOO_MANY);
  await refused.waitClosed();
  await serve.waitForLog(/"event":"connection.refused"/);
  expect(logLines().find((l) => l.event === 'connection.refused')).toMatchObject({ reason: 'per-ip', ip: '127.0.0.2' });
  // Logged in, they no longer count against the address (each now holds two files: client and Dovecot).
  for (const c of first) await login(c);
  const again = await connect(2);
  expect(await firstLine(again)).toMatch(GREETING);

  // Fill the server from other addresses, PER_IP each.
  const filler: SocketText[] = [];
  for (let host = 3; clients.filter((c) => !c.closed).length < max; host++) {
    const room = max - clients.filter((c) => !c.closed).length;
    filler.push(...(await Promise.all(Array.from({ length: Math.min(PER_IP, room) }, () => connect(host)))));
  }
  for (const c of filler) expect(await firstLine(c)).toMatch(GREETING);

  // Full: the next clients wait without a greeting; past the waiting line they hear "busy".
  const waiting: SocketText[] = [];
  for (let k = 0; k < set.maxWaiting; k++) waiting.push(await connect(100 + (k % 50)));
  await serve.waitForLog(/"event":"connections.full"/);
  const busy = await Promise.all([connect(200), connect(201), connect(202)]);
  for (const c of busy) expect(await firstLine(c)).toBe(BUSY);
  expect(waiting.map((c) => c.buffer)).toEqual(waiting.map(() => '')); // still waiting, not cut

  // Five leave: the first five waiting get their greeting, and can log in.
  for (const c of filler.slice(0, 5)) c.socket.destroy();
  for (const c of waiting.slice(0, 5)) expect(await firstLine(c)).toMatch(GREETING);
  await login(waiting[0] as SocketText);
  // The others find no place within the wait, and hear "busy" (never a silent close).
  for (const c of waiting.slice(5)) expect(await firstLine(c, 30_000)).toBe(BUSY);

  // Rate-limited lines: fewer than the refusals, with their counts.
  const busyLines = logLines().filter((l) => l.event === 'connection.refused' && l.reason === 'busy');
  expect(busyLines.length).toBeGreaterThan(0);
  expect(busyLines.length).toBeLessThan(3 + waiting.length - 5);
  expect(busyLines.reduce((n, l) => n + (l.count as number), 0)).toBeLessThanOrEqual(3 + waiting.length - 5);
  expect(logLines().filter((l) => l.event === 'connections.full')).toHaveLength(1);
  expect(serve.log()).not.toMatch(/"event":"files.exhausted"/); // sized below the fd limit: never out of files

  // Everyone leaves: new clients are served again, from any address.
  for (const c of clients) c.socket.destroy();
  const later = await Promise.all([connect(2), connect(3), connect(100)]);
  for (const c of later) expect(await firstLine(c)).toMatch(GREETING);
  await login(later[0]);
  expect(serve.child.exitCode).toBeNull();
}, LONG);
