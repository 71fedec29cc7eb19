import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { oneTimeCodes, PortalHttp, resultPage } from '../helpers/portal-http.js';
import { freePorts } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { SocketText } from '../helpers/socket-text.js';
import { makeTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, runCliProcess, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 14 point 1 against a real `twostep serve` with [server] workers = 2 in front of the real
 * Dovecot: sessions spread over both workers, and what one process guaranteed still holds across
 * them. A CLI revoke (another process, sharing only the store) ends the sessions of that code in
 * both; the guessing bound is one for all (parallel wrong passwords split over the workers never
 * reach Dovecot more often than [auth] user_failures); /metrics adds the workers up; a worker
 * killed with SIGKILL takes only its own sessions with it, others go on, clients connecting at
 * that moment and after are served (none left hanging), and it is started again. Every log line
 * is whole and says which worker (or the supervisor) wrote it.
 */

const LONG = 120_000;
const USER_FAILURES = 5;
const PER_IP = 1000;
/** Users whose passwords are guessed, a burst each (the guessing-bound test). */
const GUESSED = ['carol', 'dave', 'erin', 'frank', 'gina'];

let dir: string;
let dovecot: DovecotInstance;
let serve: ServeProcess;
let configPath: string;
let ports: { imap: number; imaps: number; metrics: number };
const clients: RawImapClient[] = [];
let names = 0;

const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const logLines = (log = serve.log()): Record<string, unknown>[] =>
  log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The log's lines matching `pick`, once there are `n` (they cross a pipe: they may trail the answers). */
async function linesOf(pick: (l: Record<string, unknown>) => boolean, n: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 20_000;
  while (logLines().filter(pick).length < n && Date.now() < deadline) await sleep(50);
  return logLines().filter(pick);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-workers-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
      ...GUESSED.map((user) => ({ user, password: `${user}-main-pw` })),
    ],
    master: MASTER,
  });
  for (const u of ['alice', 'bob']) dovecot.deliver(u, `From: a@example.com\r\nTo: ${u}\r\nSubject: hi\r\nMessage-ID: <w-${u}@example.com>\r\n\r\nhi\r\n`);
  const [imap, imaps, metrics] = (await freePorts(3)) as [number, number, number];
  ports = { imap, imaps, metrics };
  configPath = writeTestConfig({
    dir,
    cert: makeTestCert(dir),
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${imap}`,
    listenTls: `127.0.0.1:${imaps}`,
    auth: { allow_plaintext: true, revocation_poll_seconds: 1, user_failures: USER_FAILURES },
    workers: 2,
  });
  writeFileSync(configPath, `${readFileSync(configPath, 'utf8')}[limits]\nmax_connections_per_ip = ${PER_IP}\n[metrics]\nlisten = "127.0.0.1:${metrics}"\n`);
  await enableTwoStep(configPath, 'alice');
  await addAppCode(configPath, 'alice', 'tablet');
  serve = await startServe(configPath, 60_000);
}, LONG);

afterAll(async () => {
  for (const c of clients) c.close();
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A client that names itself in ID (the login line's `client`), logs in and selects INBOX. */
async function login(user: string, secret: string): Promise<{ c: RawImapClient; name: string }> {
  const name = `client-${++names}`;
  const c = await RawImapClient.connect({ port: ports.imap });
  clients.push(c);
  await c.greeting();
  expect(await c.command(`ID ("name" "${name}")`)).toMatch(/^t1 OK/m);
  expect(await c.command(`LOGIN ${user} ${secret}`)).toMatch(/^t2 OK/m);
  expect(await c.command('SELECT INBOX')).toMatch(/^t3 OK/m);
  return { c, name };
}

/** The worker that logged `name` in (its login line). */
async function workerOf(name: string): Promise<number> {
  const re = new RegExp(`"event":"login".*"client":"${name}"`);
  await serve.waitForLog(re, 10_000);
  return logLines().find((l) => l.event === 'login' && l.client === name)?.worker as number;
}

interface Held {
  c: RawImapClient;
  name: string;
  worker: number;
}

/** Sessions in IDLE until each worker holds at least two (which worker accepts is the kernel's choice). */
async function sessionsOnBoth(user: string, secret: string): Promise<Held[]> {
  const held: Held[] = [];
  const on = (w: number) => held.filter((h) => h.worker === w).length;
  while ((on(1) < 2 || on(2) < 2) && held.length < 40) {
    const { c, name } = await login(user, secret);
    c.write('t4 IDLE\r\n');
    await c.until(/^\+ idling/);
    held.push({ c, name, worker: await workerOf(name) });
  }
  expect([on(1), on(2)].every((n) => n >= 2)).toBe(true);
  return held;
}

/** Still proxied: IDLE ends and Dovecot answers a NOOP. */
async function expectAlive(h: Held): Promise<void> {
  h.c.write('DONE\r\n');
  expect(await h.c.until(/^t4 (OK|NO|BAD)/)).toMatch(/^t4 OK/m);
  expect(await h.c.command('NOOP')).toMatch(/^t4 OK NOOP/m); // the client's own tags: IDLE's t4 was written raw
}

describe('two workers', () => {
  it('start once checked by the supervisor; every log line names its worker or the supervisor; each worker takes its share of the per-address limit', async () => {
    // A worker's lines may reach the pipe after the supervisor's `ready` (each process writes its own).
    await linesOf((l) => l.event === 'worker.ready', 2);
    await linesOf((l) => l.event === 'limits.set', 2);
    const lines = logLines();
    for (const l of lines) expect(l.worker === 1 || l.worker === 2 || l.role === 'supervisor', JSON.stringify(l)).toBe(true);
    expect(lines.filter((l) => l.event === 'backend-checked' && l.role === 'supervisor')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'backend-checked' && l.role !== 'supervisor')).toHaveLength(0);
    expect(lines.filter((l) => l.event === 'worker.ready').map((l) => l.worker).sort()).toEqual([1, 2]);
    expect(lines.find((l) => l.event === 'ready')).toMatchObject({ role: 'supervisor', workers: 2 });
    const set = lines.filter((l) => l.event === 'limits.set');
    expect(set.map((l) => [l.worker, l.maxConnectionsPerIp, l.workers]).sort()).toEqual([
      [1, PER_IP / 2, 2],
      [2, PER_IP / 2, 2],
    ]);
  });

  it("sessions of a code the CLI made after the start sign in on both workers; the CLI's revoke ends them in both, and only them", async () => {
    const phone = await addAppCode(configPath, 'alice', 'phone'); // while serving
    const held = await sessionsOnBoth('alice', phone);
    const other = await login('bob', 'bob-main-pw'); // passthrough: not the code's
    await workerOf(other.name); // its login line is in (the metrics test counts them)
    expect((await cli('appcode', 'revoke', 'alice', 'phone')).code).toBe(0);
    for (const h of held) await h.c.waitClosed(15_000);
    expect(await other.c.command('NOOP')).toMatch(/^t4 OK/m);
    const revoked = await linesOf((l) => l.event === 'session.revoked', held.length);
    expect(revoked).toHaveLength(held.length);
    expect(new Set(revoked.map((l) => l.worker))).toEqual(new Set([1, 2]));
    const again = await RawImapClient.connect({ port: ports.imap });
    clients.push(again);
    await again.greeting();
    expect(await again.command(`LOGIN alice ${phone}`)).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
  }, LONG);

  it('parallel wrong passwords split over both workers reach Dovecot at most [auth] user_failures times', async () => {
    const ATTEMPTS = 24;
    const failuresAtDovecot = (user: string) => (dovecot.log().match(new RegExp(`auth failed.*user=<${user}>`, 'g')) ?? []).length;
    /** One burst of wrong passwords for `user`; which workers decided them. */
    const wave = async (user: string): Promise<Set<unknown>> => {
      const answers = await Promise.all(
        Array.from({ length: ATTEMPTS }, async (_, i) => {
          const c = await RawImapClient.connect({ port: ports.imap });
          clients.push(c);
          await c.greeting();
          const answer = await c.command(`LOGIN ${user} wrong-password-${i}`);
          c.close();
          return answer;
        }),
      );
      const checked = answers.filter((a) => /^t1 NO \[AUTHENTICATIONFAILED\]/m.test(a)).length;
      const throttled = answers.filter((a) => /^t1 NO \[UNAVAILABLE\]/m.test(a)).length;
      expect(checked + throttled, answers.join('\n')).toBe(ATTEMPTS);
      expect(checked).toBeGreaterThan(0);
      expect(checked).toBeLessThanOrEqual(USER_FAILURES);
      const lines = await linesOf((l) => l.event === 'login' && l.user === user, ATTEMPTS);
      expect(lines).toHaveLength(ATTEMPTS);
      // Dovecot's side: as many refused logins for the user as twostep let through, no more.
      const deadline = Date.now() + 20_000;
      while (failuresAtDovecot(user) < checked && Date.now() < deadline) await sleep(50);
      expect(failuresAtDovecot(user)).toBe(checked);
      return new Set(lines.map((l) => l.worker));
    };
    // The kernel decides which worker accepts: a burst that one worker took alone proves nothing
    // about sharing, so another user's burst follows until one was split over both.
    let split = false;
    for (const user of GUESSED) {
      split = (await wave(user)).size === 2;
      if (split) break;
    }
    expect(split).toBe(true);
  }, LONG);

  it('/metrics adds both workers up; /readyz asks both', async () => {
    for (let i = 0; i < 4; i++) {
      const { c, name } = await login('bob', 'bob-main-pw');
      await workerOf(name);
      c.close();
    }
    const ok = logLines().filter((l) => l.event === 'login' && l.result === 'ok');
    expect(new Set(ok.map((l) => l.worker))).toEqual(new Set([1, 2]));
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const sum = [...text.matchAll(/^twostep_logins_total\{door="proxy",protocol="imap",result="ok",reason="[^"]+"\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(sum).toBe(ok.length);
    expect(text).toMatch(/^twostep_workers 2$/m);
    expect(text).toMatch(/^twostep_sessions_open\{protocol="imap"\} \d+$/m);
    const ready = await fetch(`http://127.0.0.1:${ports.metrics}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { 'imap.backend': 'ok', store: 'ok' } });
  }, LONG);

  it('a TLS session ticket one worker issued resumes at the other (the supervisor gives every worker the same ticket keys)', async () => {
    /** An implicit-TLS login offering `session`: which worker logged it in, whether TLS resumed, the newest ticket. */
    const tlsLogin = async (session: Buffer | undefined): Promise<{ worker: number; reused: boolean; ticket: Buffer | undefined }> => {
      const name = `tls-${++names}`;
      const socket = tls.connect({ host: '127.0.0.1', port: ports.imaps, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session ? { session } : {}) });
      let ticket: Buffer | undefined;
      socket.on('session', (t: Buffer) => (ticket = t));
      const text = new SocketText(socket, 'utf8');
      try {
        await text.until(/^\* OK/);
        // Read while the connection is up: once the server has closed it, Node answers null.
        const reused = socket.isSessionReused();
        socket.write(`t1 ID ("name" "${name}")\r\nt2 LOGIN bob bob-main-pw\r\n`);
        expect(await text.until(/^t2 (OK|NO|BAD)/)).toMatch(/^t2 OK/m);
        socket.write('t3 LOGOUT\r\n');
        await text.until(/^t3 OK/);
        return { worker: await workerOf(name), reused, ticket };
      } finally {
        socket.destroy();
      }
    };
    let last = await tlsLogin(undefined);
    expect(last.reused).toBe(false);
    let crossed = false;
    for (let i = 0; i < 20 && !crossed; i++) {
      const next = await tlsLogin(last.ticket);
      expect(next.reused, `login ${i + 2} (worker ${next.worker}, ticket from worker ${last.worker})`).toBe(true);
      crossed = next.worker !== last.worker;
      last = next.ticket ? next : { ...next, ticket: last.ticket };
    }
    expect(crossed).toBe(true);
  }, LONG);

  it('a worker killed with SIGKILL takes only its own sessions; clients arriving meanwhile are served; it is started again', async () => {
    const held = await sessionsOnBoth('bob', 'bob-main-pw');
    const started = () => logLines().filter((l) => l.event === 'worker.started' && l.worker === 1);
    const victim = started().at(-1)?.pid as number;
    process.kill(victim, 'SIGKILL');
    // Clients arriving at the moment of the crash: each is served (greeted) or closed, none is left hanging.
    const burst = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = await RawImapClient.connect({ port: ports.imap });
        clients.push(c);
        return c.greeting().then(
          (g) => (/^\* OK/m.test(g) ? 'greeted' : g),
          (err: Error) => (c.closed ? 'closed' : err.message),
        );
      }),
    );
    for (const b of burst) expect(['greeted', 'closed']).toContain(b);
    // The dead worker's sessions are cut; the other worker's go on.
    for (const h of held.filter((x) => x.worker === 1)) await h.c.waitClosed(20_000);
    for (const h of held.filter((x) => x.worker === 2)) await expectAlive(h);
    await serve.waitForLog(/"event":"worker.exited"/, 20_000);
    expect(logLines().find((l) => l.event === 'worker.exited')).toMatchObject({ role: 'supervisor', worker: 1, pid: victim, signal: 'SIGKILL' });
    // New clients while worker 1 is away (or already back): served.
    for (let i = 0; i < 3; i++) (await login('bob', 'bob-main-pw')).c.close();

    expect(await linesOf((l) => l.event === 'worker.ready' && l.worker === 1, 2)).toHaveLength(2);
    expect(started()).toHaveLength(2);
    expect(started()[1]?.pid).not.toBe(victim);
    // The new worker 1 serves: logins until one lands there.
    let onNewOne = false;
    for (let i = 0; i < 8 && !onNewOne; i++) {
      const { c, name } = await login('bob', 'bob-main-pw');
      c.close();
      onNewOne = (await workerOf(name)) === 1;
    }
    expect(onNewOne).toBe(true);
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(text).toMatch(/^twostep_worker_restarts_total 1$/m);
    expect(text).toMatch(/^twostep_workers 2$/m);
  }, LONG);

  it('every line of the whole run is one whole JSON line naming its worker or the supervisor (several processes share one stderr)', () => {
    const log = serve.log();
    const all = log.slice(0, log.lastIndexOf('\n')).split('\n'); // up to the last whole line
    expect(all.length).toBeGreaterThan(50);
    for (const line of all) {
      const l = JSON.parse(line) as Record<string, unknown>;
      expect(l.worker === 1 || l.worker === 2 || l.role === 'supervisor', line).toBe(true);
    }
  });
});

describe('a failed start with two workers', () => {
  it.each(['imap.listen', 'metrics.listen'])('%s on a port in use: exit 2 and the one line naming the key, as with one process', async (key) => {
    const sub = mkdtempSync(join(dir, 'taken-'));
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      const [free] = (await freePorts(1)) as [number];
      const imap = key === 'imap.listen' ? port : free;
      const path = writeTestConfig({ dir: sub, cert: makeTestCert(sub), backendImapPort: dovecot.imapPort, listen: `127.0.0.1:${imap}`, listenTls: '', workers: 2 });
      if (key === 'metrics.listen') writeFileSync(path, `${readFileSync(path, 'utf8')}[metrics]\nlisten = "127.0.0.1:${port}"\n`);
      const r = await runCliProcess(['--config', path, 'serve']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`twostep: ${key} 127.0.0.1:${port}: address already in use`);
    } finally {
      taken.close();
    }
  }, LONG);
});

describe('the portal with two workers', () => {
  it('the Apple profile offered after "Add Application Code" downloads whichever connection asks (the portal is in worker 1 alone)', async () => {
    const sub = mkdtempSync(join(dir, 'portal-'));
    const [imap, portalPort] = (await freePorts(2)) as [number, number];
    const url = `http://127.0.0.1:${portalPort}`;
    const path = writeTestConfig({
      dir: sub,
      cert: makeTestCert(sub),
      backendImapPort: dovecot.imapPort,
      listen: `127.0.0.1:${imap}`,
      listenTls: '',
      portal: { listen: `127.0.0.1:${portalPort}`, public_url: `${url}/` },
      sections: { clients: { host: 'localhost', display_name: 'Test Mail', domains: ['example.com'], login_name: 'localpart', imap_port: 993, smtp_port: 465 } },
      workers: 2,
    });
    await enableTwoStep(path, 'alice');
    const nextCode = await oneTimeCodes(path, 'alice');
    const portalServe = await startServe(path, 60_000);
    try {
      await portalServe.waitForLog(/("event":"worker.ready"[^]*){2}/, 20_000); // each worker's lines before its ready one
      const listening = logLines(portalServe.log()).filter((l) => l.event === 'portal.listening');
      expect(listening.map((l) => l.worker)).toEqual([1]);
      const b = new PortalHttp(url);
      await b.signIn('alice', 'alice-main-pw', nextCode);
      for (let i = 0; i < 4; i++) {
        expect((await b.get('/apps/new')).status).toBe(200); // the form, with its token
        const { profileUrl } = resultPage((await b.post('/apps', { name: `phone ${i}`, scopes_shown: '1', scope_imap: '1', scope_smtp: '1' })).body);
        expect(profileUrl).toMatch(/^\/apps\/profile\//);
        // A new connection, as after a browser's idle keep-alive closed: the kernel may give it to either worker.
        const status = await new Promise<number>((resolve, reject) => {
          get(`${url}${profileUrl as string}`, { agent: false, headers: { cookie: b.jar.header() } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).once('error', reject);
        });
        expect(status).toBe(200);
      }
    } finally {
      await portalServe.stop();
    }
  }, LONG);
});
