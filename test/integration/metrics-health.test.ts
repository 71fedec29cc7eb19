import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { bringDovecotBack, takeDovecotDown } from '../helpers/dovecot-outage.js';
import { send } from '../helpers/http-client.js';
import { freePorts } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { sharedTestCert, type TestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCliProcess, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 12 point 5 against a real `serve` and the real Dovecot: /metrics after real logins
 * (counters by protocol, result and reason; sessions open; latency; the throttle), /healthz, and
 * /readyz turning 503 when Dovecot stops and 200 when it is back.
 */

const LONG = 120_000;
const IP_FAILURES = 3;
let dir: string;
let dovecot: DovecotInstance;
let serve: ServeProcess;
let ports: { imap: number; pop3: number; metrics: number };
let appCode: string;
let cert: TestCert;
const open: { close(): void }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-metrics-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  const [imap, pop3, metrics] = (await freePorts(3)) as [number, number, number];
  ports = { imap, pop3, metrics };
  const path = writeTestConfig({
    dir,
    cert: (cert = sharedTestCert()),
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${imap}`,
    listenTls: '',
    pop3: { listen: `127.0.0.1:${pop3}`, listenTls: '', backendPort: dovecot.pop3Port },
    auth: { allow_plaintext: true, ip_failures: IP_FAILURES },
  });
  writeFileSync(path, `${readFileSync(path, 'utf8')}[metrics]\nlisten = "127.0.0.1:${metrics}"\n`);
  await enableTwoStep(path, 'alice');
  appCode = await addAppCode(path, 'alice', 'phone');
  serve = await startServe(path, 60_000);
}, LONG);

afterAll(async () => {
  for (const c of open) c.close();
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (path: string) => send(`http://127.0.0.1:${ports.metrics}${path}`);

/** The value of one series in the exposition text (labels in the order prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function imapLogin(user: string, password: string, localAddress = '127.0.0.1'): Promise<{ answer: string; client: RawImapClient }> {
  const client = await RawImapClient.connect({ port: ports.imap, localAddress });
  await client.greeting();
  const answer = await client.command(`LOGIN ${user} ${password}`);
  open.push(client);
  return { answer, client };
}

/** Polls /readyz until it answers `status` (it caches its answer for a second). */
async function readyzUntil(status: number, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await get('/readyz');
    if (r.status === status) return r;
    if (Date.now() > deadline) throw new Error(`/readyz still ${r.status}: ${r.body}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('/healthz and /readyz', () => {
  it('healthz says the process is up; readyz checks every backend and the store', async () => {
    const h = await get('/healthz');
    expect([h.status, h.body]).toEqual([200, 'ok\n']);
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ready', checks: { 'imap.backend': 'ok', 'pop3.backend': 'ok', store: 'ok' } });
    expect((await get('/nope')).status).toBe(404);
    expect((await send(`http://127.0.0.1:${ports.metrics}/metrics`, { method: 'POST', body: '' })).status).toBe(405);
  });
});

describe('/metrics', () => {
  it('counts real logins by protocol, result and reason; sessions open; latency; throttle refusals', async () => {
    expect((await imapLogin('bob', 'bob-main-pw')).answer).toMatch(/^t1 OK/m);
    expect((await imapLogin('alice', appCode)).answer).toMatch(/^t1 OK/m);
    expect((await imapLogin('bob', 'wrong-pw')).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    expect((await imapLogin('alice', 'alice-main-pw')).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    // One address guessing: IP_FAILURES refusals, then the guessing bound answers.
    for (let k = 0; k < IP_FAILURES; k++) expect((await imapLogin('bob', `guess-${k}`, '127.0.0.9')).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    expect((await imapLogin('bob', 'guess-x', '127.0.0.9')).answer).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
    const p = new SocketText(await connectTestSocket({ port: ports.pop3 }), 'utf8');
    open.push({ close: () => p.socket.destroy() });
    await p.until(/^\+OK/);
    p.socket.write('USER bob\r\nPASS bob-main-pw\r\n');
    await p.until(/^\+OK Logged in/);

    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const t = m.body;
    const logins = (protocol: string, result: string, reason: string) =>
      sample(t, `twostep_logins_total{door="proxy",protocol="${protocol}",result="${result}",reason="${reason}"}`);
    expect(logins('imap', 'ok', 'passthrough')).toBe(1);
    expect(logins('imap', 'ok', 'app-code')).toBe(1);
    expect(logins('imap', 'fail', 'invalid-credentials')).toBe(1 + IP_FAILURES);
    expect(logins('imap', 'fail', 'app-code-required')).toBe(1);
    expect(logins('imap', 'fail', 'throttled')).toBe(1);
    expect(logins('pop3', 'ok', 'passthrough')).toBe(1);
    expect(sample(t, 'twostep_throttle_refusals_total{protocol="imap"}')).toBe(1);
    expect(sample(t, 'twostep_sessions_open{protocol="imap"}')).toBe(2); // bob's and alice's, still open
    expect(sample(t, 'twostep_sessions_open{protocol="pop3"}')).toBe(1);
    expect(sample(t, 'twostep_connections_open{protocol="imap"}')).toBe(2 + 2 + IP_FAILURES + 1); // the refused ones stay connected
    expect(sample(t, 'twostep_login_duration_seconds_count{door="proxy",protocol="imap",result="ok"}')).toBe(2);
    expect(sample(t, 'twostep_login_duration_seconds_bucket{le="+Inf",door="proxy",protocol="imap",result="fail"}')).toBe(2 + IP_FAILURES + 1);
    expect(sample(t, 'twostep_argon2_in_flight')).toBe(0);
    expect(sample(t, 'twostep_argon2_queued')).toBe(0);
    expect(sample(t, 'twostep_store_queue_length')).toBeGreaterThanOrEqual(0);
    expect(sample(t, 'twostep_store_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(t, 'twostep_store_write_failures_total')).toBe(0);
    expect(sample(t, 'process_open_fds')).toBeGreaterThan(0);
    expect(sample(t, 'process_max_fds')).toBeGreaterThan(0);
    // No label carries a user name or an address.
    expect(t).not.toMatch(/alice|bob|127\.0\.0\.\d/);
  });
});

describe('/readyz follows the backend', () => {
  it('turns 503 naming the backend when Dovecot stops, and 200 when it is back', async () => {
    await takeDovecotDown(dovecot);
    const down = await readyzUntil(503);
    const body = JSON.parse(down.body) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not ready');
    expect(body.checks['imap.backend']).toMatch(new RegExp(`^127\\.0\\.0\\.1:${dovecot.imapPort}: connect to 127\\.0\\.0\\.1:${dovecot.imapPort} failed: .*ECONNREFUSED`));
    expect(body.checks['pop3.backend']).toMatch(/ECONNREFUSED/);
    expect(body.checks.store).toBe('ok');
    // A login meanwhile is a backend error, counted by backend.
    expect((await imapLogin('bob', 'bob-main-pw')).answer).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
    expect(sample((await get('/metrics')).body, 'twostep_backend_errors_total{backend="imap"}')).toBe(1);

    await bringDovecotBack(dovecot);
    const up = await readyzUntil(200);
    expect(JSON.parse(up.body)).toEqual({ status: 'ready', checks: { 'imap.backend': 'ok', 'pop3.backend': 'ok', store: 'ok' } });
    expect((await imapLogin('bob', 'bob-main-pw')).answer).toMatch(/^t1 OK/m);
  }, LONG);
});

describe('[metrics] listen', () => {
  it('a port in use names the key: exit 2, one line', async () => {
    const sub = join(dir, 'second');
    mkdirSync(sub);
    const [imap] = (await freePorts(1)) as [number];
    const path = writeTestConfig({ dir: sub, cert, backendImapPort: dovecot.imapPort, listen: `127.0.0.1:${imap}`, listenTls: '' });
    writeFileSync(path, `${readFileSync(path, 'utf8')}[metrics]\nlisten = "127.0.0.1:${ports.metrics}"\n`); // the first serve's
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`twostep: metrics.listen 127.0.0.1:${ports.metrics}: address already in use`);
  }, LONG);
});
