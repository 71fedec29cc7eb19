#!/usr/bin/env node
// npm run bench: twostep against direct Dovecot and nginx's mail proxy, in one run, on loopback.
//
//   a. login latency   N sequential connect+LOGIN+LOGOUT per target (rounds interleaved)
//   b. login throughput C concurrent clients for D seconds per target
//   c. bulk throughput  FETCH of a 20 MiB message, 5 times per target
//   d. memory           RSS idle and with M logged-in idle connections (twostep vs nginx)
//
// Plaintext on the client side for all targets (twostep [auth] allow_plaintext = true; nginx never
// speaks TLS to the backend), so the comparison is about the proxy; one extra twostep row over
// implicit TLS for information. Needs root (private Dovecot), Dovecot and nginx + libnginx-mod-mail.
// Options: --quick (small counts, for trying the script), --json-only.
// Writes bench/results/latest.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDovecotBinary, freePort, makeTestCert, startDemoDovecot } from '../scripts/demo-backend.mjs';
import { ImapConn, loginRound, quote } from './imap-client.mjs';
import { findNginx, NGINX_APT, startNginx } from './nginx.mjs';
import { fdLimits, sleep, stopChild } from './proc.mjs';
import { enrolAppCodeUser, startTwostepChild, twostepConfig } from './twostep.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

const P = {
  latencyN: quick ? 30 : 200,
  warmupRounds: quick ? 5 : 20,
  throughputClients: 8,
  throughputSeconds: quick ? 2 : 10,
  throughputSliceSeconds: 2,
  bulkBytes: 20 * 1024 * 1024,
  bulkFetches: 5,
  memoryConnections: quick ? 100 : 500,
  openConcurrency: 8,
  memoryWarmupPerClient: 5,
  nginxWorkers: 1,
  twostepLogLevel: 'info',
};

const USERS = { plain: 'plain-main-password', tfa: 'tfa-main-password' };
const t0 = Date.now();
const log = (s) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

// ---------- preconditions ----------
const nginx = findNginx();
if (!nginx.ok) {
  console.error(`bench: nginx's mail proxy is needed for the comparison; missing: ${nginx.missing.join(', ')}.`);
  console.error(`Install it (as root):\n  ${NGINX_APT}`);
  process.exit(1);
}
if (!findDovecotBinary()) {
  console.error('bench: Dovecot is needed (apt-get install -y dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd).');
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  console.error('bench: run as root (the private Dovecot needs it, as the integration tests do).');
  process.exit(1);
}
if (!fs.existsSync(path.join(here, '..', 'dist', 'main.js'))) {
  console.error('bench: dist/ is missing; run `npm run bench` (it builds first) or `npm run build`.');
  process.exit(1);
}

// ---------- cleanup ----------
const cleanups = [];
let cleaning;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`cleanup: ${err?.message ?? err}`);
      }
    }
  })());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------- stats and formatting ----------
function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0],
    max: s[s.length - 1],
  };
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
function table(head, rows) {
  const all = [head, ...rows].map((r) => r.map(String));
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(all[0]), w.map((n) => '-'.repeat(n)).join('  '), ...all.slice(1).map(line)].join('\n');
}

function bigMessage(bytes) {
  const head =
    'From: bench <bench@example.com>\r\nTo: bench\r\nSubject: 20 MiB bench message\r\n' +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <bench-big@example.com>\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const lineText = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKL\r\n'; // 78 bytes
  const n = Math.floor((bytes - head.length) / lineText.length);
  let body = lineText.repeat(n);
  const rest = bytes - head.length - body.length;
  if (rest >= 2) body += 'x'.repeat(rest - 2) + '\r\n';
  return head + body;
}

/** Share of all cores busy over ms (from /proc/stat), in percent. */
async function cpuBusy(ms) {
  const read = () => {
    const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return Math.round(100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)));
}

// ---------- measurements ----------
async function sanity(target) {
  // One correct login, then one refused login: what the client sees, how long it takes,
  // and whether the connection survives the refusal.
  await loginRound(target, target.user, target.password);
  const c = await ImapConn.open(target);
  const start = performance.now();
  let r;
  try {
    r = await c.command(`LOGIN ${quote(target.user)} ${quote(target.wrong)}`);
  } catch (err) {
    return { refusal: `error: ${err.message}`, ms: performance.now() - start, stillOpen: false };
  }
  const ms = performance.now() - start;
  let stillOpen = false;
  try {
    stillOpen = (await c.command('NOOP', 5000)).status === 'OK';
  } catch {
    stillOpen = false;
  }
  c.close();
  return { refusal: r.line.replace(/^\S+ /, ''), ms, stillOpen };
}

async function latency(targets, n, warmup) {
  for (let i = 0; i < warmup; i++) for (const t of targets) await loginRound(t, t.user, t.password);
  const ms = Object.fromEntries(targets.map((t) => [t.name, []]));
  // Interleaved rounds: drift (page cache, CPU frequency, Dovecot's process pool) hits all alike.
  for (let i = 0; i < n; i++) for (const t of targets) ms[t.name].push(await loginRound(t, t.user, t.password));
  return Object.fromEntries(targets.map((t) => [t.name, summary(ms[t.name])]));
}

async function throughput(target, clients, seconds) {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let ok = 0;
  let errors = 0;
  let firstError = null;
  const MAX_ROUNDS_PER_CLIENT = 1_000_000;
  const worker = async () => {
    for (let i = 0; i < MAX_ROUNDS_PER_CLIENT && performance.now() < end; i++) {
      try {
        await loginRound(target, target.user, target.password);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= err.message;
        if (errors > 50) return;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const elapsed = (performance.now() - start) / 1000;
  return { logins: ok, seconds: elapsed, perSecond: ok / elapsed, errors, firstError };
}

async function bulk(target, fetches, expectBytes) {
  const c = await ImapConn.open(target);
  try {
    const l = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
    if (l.status !== 'OK') throw new Error(`LOGIN: ${l.line}`);
    const e = await c.command('EXAMINE INBOX');
    if (e.status !== 'OK') throw new Error(`EXAMINE: ${e.line}`);
    const fetchOnce = async () => {
      const s = performance.now();
      const r = await c.command('FETCH 1 (BODY.PEEK[])', 120_000);
      const secs = (performance.now() - s) / 1000;
      if (r.status !== 'OK' || r.literalBytes < expectBytes) throw new Error(`FETCH got ${r.literalBytes} bytes: ${r.line}`);
      return { bytes: r.literalBytes, secs };
    };
    await fetchOnce(); // warm-up
    const runs = [];
    for (let i = 0; i < fetches; i++) runs.push(await fetchOnce());
    const bytes = runs.reduce((s, r) => s + r.bytes, 0);
    const secs = runs.reduce((s, r) => s + r.secs, 0);
    const mbps = runs.map((r) => r.bytes / 1e6 / r.secs).sort((a, b) => a - b);
    await c.command('LOGOUT').catch(() => {});
    return { fetches, bytesEach: runs[0].bytes, MBps: bytes / 1e6 / secs, minMBps: mbps[0], maxMBps: mbps[mbps.length - 1] };
  } finally {
    c.close();
  }
}

/** Open `count` logged-in connections (a few at a time); returns them. */
async function openIdle(target, count, concurrency) {
  const conns = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const c = await ImapConn.open(target);
      conns.push(c);
      const r = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
      if (r.status !== 'OK') throw new Error(`LOGIN ${target.name}: ${r.line}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (err) {
    for (const c of conns) c.close();
    throw err;
  }
  return conns;
}

async function steadyRss(readRss) {
  await sleep(1000);
  const v = [];
  for (let i = 0; i < 5; i++) {
    v.push(readRss());
    await sleep(200);
  }
  return v.sort((a, b) => a - b)[2];
}

async function memory(name, proc, target, count) {
  const idleFresh = await steadyRss(proc.rss);
  // Warm up at the same concurrency the connections are opened with: for twostep that leaves the
  // argon2 working memory of parallel verifications (19 MiB each, kept by the allocator) in the
  // "warm" figure, so the per-connection figure is the connections' own cost.
  await Promise.all(
    Array.from({ length: P.openConcurrency }, async () => {
      for (let i = 0; i < P.memoryWarmupPerClient; i++) await loginRound(target, target.user, target.password);
    }),
  );
  const idleWarm = await steadyRss(proc.rss);
  const conns = await openIdle(target, count, P.openConcurrency);
  let loaded;
  try {
    loaded = await steadyRss(proc.rss);
    const alive = conns.filter((c) => !c.closed).length;
    if (alive !== count) throw new Error(`${name}: only ${alive}/${count} connections still open`);
  } finally {
    for (const c of conns) c.close();
  }
  return { idleFreshKiB: idleFresh, idleWarmKiB: idleWarm, loadedKiB: loaded, connections: count, perConnKiB: (loaded - idleWarm) / count };
}

// ---------- main ----------
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-bench-'));
cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
let exitCode = 0;
try {
  const fd = fdLimits();
  const machine = {
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    fdLimit: fd,
    nginx: nginx.version,
  };
  const memConns = Math.min(P.memoryConnections, Math.floor((Number(fd?.soft) || 1024) / 2) - 100);
  if (memConns < P.memoryConnections) log(`file descriptor limit ${fd?.soft}: memory test reduced to ${memConns} connections`);

  machine.backgroundCpuBusyPercent = await cpuBusy(2000);
  log(`background CPU load before starting: ${machine.backgroundCpuBusyPercent}% of ${machine.cores} cores busy`);
  log('starting Dovecot');
  const masterPassword = `m-${Math.random().toString(36).slice(2)}`;
  const dovecot = await startDemoDovecot({
    dir: path.join(root, 'dovecot'),
    users: Object.entries(USERS).map(([user, password]) => ({ user, password })),
    master: { user: 'proxymaster', password: masterPassword },
  });
  cleanups.push(() => dovecot.stop());
  machine.dovecot = (await import('node:child_process')).spawnSync(findDovecotBinary(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const msg = bigMessage(P.bulkBytes);
  for (const u of Object.keys(USERS)) dovecot.deliver(u, msg);

  // twostep: config, the app-code user, `serve` as a child process.
  const tsDir = path.join(root, 'twostep');
  fs.mkdirSync(tsDir, { recursive: true });
  const cert = makeTestCert(path.join(tsDir, 'tls'));
  const masterPasswordFile = path.join(tsDir, 'master-password');
  fs.writeFileSync(masterPasswordFile, `${masterPassword}\n`, { mode: 0o600 });
  const tsPort = await freePort();
  const tsTlsPort = await freePort();
  const configText = twostepConfig({
    dir: tsDir, cert: cert.cert, key: cert.key, masterPasswordFile, port: tsPort, tlsPort: tsTlsPort,
    backendPort: dovecot.imapPort, logLevel: P.twostepLogLevel,
  });
  const configPath = path.join(tsDir, 'twostep.toml');
  fs.writeFileSync(configPath, configText);
  const appCode = await enrolAppCodeUser(configText, configPath, 'tfa');
  const tsLog = path.join(tsDir, 'serve.log');
  log('starting twostep serve (child process)');
  let twostep = await startTwostepChild({ configPath, port: tsPort, logFile: tsLog });
  cleanups.push(() => twostep.stop());
  machine.twostepFdLimit = fdLimits(twostep.pid);

  // nginx + its auth_http responder (own process, like a real one).
  const authPort = await freePort();
  const auth = spawn(process.execPath, [path.join(here, 'auth-http.mjs'), String(authPort), String(dovecot.imapPort), JSON.stringify(USERS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => stopChild(auth));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('auth_http responder did not start')), 10_000);
    auth.stdout.once('data', () => (clearTimeout(timer), resolve()));
    auth.once('exit', (c) => (clearTimeout(timer), reject(new Error(`auth_http responder exited (${c})`))));
  });
  const ngPort = await freePort();
  log(`starting nginx ${nginx.version} (mail module, ${P.nginxWorkers} worker)`);
  const startNg = () => startNginx({ bin: nginx.bin, module: nginx.module, dir: path.join(root, 'nginx'), port: ngPort, authPort, workers: P.nginxWorkers });
  let ng = await startNg();
  cleanups.push(() => ng.stop());

  const T = {
    direct: { name: 'direct Dovecot', port: dovecot.imapPort, user: 'plain', password: USERS.plain, wrong: 'wrong' },
    nginx: { name: 'nginx mail proxy', port: ngPort, user: 'plain', password: USERS.plain, wrong: 'wrong' },
    pass: { name: 'twostep passthrough', port: tsPort, user: 'plain', password: USERS.plain, wrong: 'wrong' },
    code: { name: 'twostep app code', port: tsPort, user: 'tfa', password: appCode, wrong: USERS.tfa },
    codeTls: { name: 'twostep app code, TLS (info)', port: tsTlsPort, tls: true, user: 'tfa', password: appCode, wrong: USERS.tfa },
  };
  const mainRows = [T.direct, T.nginx, T.pass, T.code, T.codeTls];

  log('sanity: one good and one refused login per target');
  const checks = {};
  for (const t of [T.direct, T.nginx, T.pass, T.code]) checks[t.name] = await sanity(t);

  log(`a. login latency: ${P.warmupRounds} warm-up + ${P.latencyN} sequential rounds per target, interleaved`);
  const lat = await latency(mainRows, P.latencyN, P.warmupRounds);

  // In slices, round-robin over the targets: the machine's background load drifts (other jobs
  // share the 2 cores), and every target should see the same drift.
  const slices = Math.max(1, Math.round(P.throughputSeconds / P.throughputSliceSeconds));
  log(`b. login throughput: ${P.throughputClients} clients x ${P.throughputSeconds} s per target (${slices} slices, round-robin)`);
  const thr = Object.fromEntries(mainRows.map((t) => [t.name, { logins: 0, seconds: 0, perSecond: NaN, errors: 0, firstError: null, sliceRates: [] }]));
  for (let i = 0; i < slices; i++) {
    for (const t of mainRows) {
      const r = await throughput(t, P.throughputClients, P.throughputSeconds / slices);
      const a = thr[t.name];
      a.logins += r.logins;
      a.seconds += r.seconds;
      a.errors += r.errors;
      a.firstError ??= r.firstError;
      a.sliceRates.push(+r.perSecond.toFixed(1));
      await sleep(200);
    }
  }
  for (const t of mainRows) {
    const a = thr[t.name];
    a.perSecond = a.logins / a.seconds;
    log(`   ${t.name}: ${f1(a.perSecond)} logins/s (slices ${a.sliceRates.join(' ')})${a.errors ? ` (${a.errors} errors: ${a.firstError})` : ''}`);
  }

  log(`c. bulk: FETCH of a ${P.bulkBytes / 2 ** 20} MiB message, 1 warm-up + ${P.bulkFetches} per target`);
  // nginx's mail proxy copies through one buffer of proxy_buffer bytes (default: one page, 4 KiB);
  // a second instance with 64 KiB (Node's default stream chunk) shows how much of the gap that is.
  const ngBigPort = await freePort();
  const ngBig = await startNginx({
    bin: nginx.bin, module: nginx.module, dir: path.join(root, 'nginx-64k'), port: ngBigPort, authPort, workers: P.nginxWorkers, proxyBuffer: '64k',
  });
  cleanups.push(() => ngBig.stop());
  T.nginx64k = { ...T.nginx, name: 'nginx, proxy_buffer 64k (info)', port: ngBigPort };
  const blk = {};
  try {
    for (const t of [T.direct, T.nginx, T.nginx64k, T.code, T.codeTls]) blk[t.name] = await bulk(t, P.bulkFetches, P.bulkBytes);
  } finally {
    await ngBig.stop();
  }

  log(`d. memory: fresh processes, idle, then ${memConns} logged-in idle connections`);
  await twostep.stop();
  twostep = await startTwostepChild({ configPath, port: tsPort, logFile: tsLog });
  const memTs = await memory('twostep', twostep, T.code, memConns);
  await sleep(1000);
  await ng.stop();
  ng = await startNg();
  const memNg = await memory('nginx', { rss: ng.rss }, T.nginx, memConns);
  memNg.workers = P.nginxWorkers;

  // ---------- report ----------
  const d = T.direct.name;
  const n = T.nginx.name;
  const elapsedS = (Date.now() - t0) / 1000;
  const out = [];
  out.push(`twostep bench — ${new Date().toISOString()}${quick ? '  (QUICK MODE: small counts, not for comparison)' : ''}`);
  out.push(
    `machine: node ${machine.node}, ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Linux ${machine.kernel}; ` +
      `open files soft/hard ${fd?.soft}/${fd?.hard} (twostep child ${machine.twostepFdLimit?.soft})`,
  );
  out.push(`backends: Dovecot ${machine.dovecot}; nginx ${machine.nginx} (mail module, worker_processes ${P.nginxWorkers}, auth_http = small node responder)`);
  out.push(`background CPU load before the run: ${machine.backgroundCpuBusyPercent}% busy (other jobs on this machine add noise)`);
  out.push(`everything on loopback, client/twostep/nginx/Dovecot share the ${machine.cores} cores; plaintext IMAP LOGIN on every target; twostep log level ${P.twostepLogLevel}`);
  out.push('');
  out.push(`a. login latency (connect + greeting + LOGIN + LOGOUT, ${P.latencyN} sequential rounds, ms)`);
  out.push(
    table(
      ['target', 'p50', 'p95', 'mean', 'p50/direct', 'p50/nginx'],
      mainRows.map((t) => {
        const s = lat[t.name];
        return [t.name, f2(s.p50), f2(s.p95), f2(s.mean), f2(ratio(s.p50, lat[d].p50)), f2(ratio(s.p50, lat[n].p50))];
      }),
    ),
  );
  out.push('');
  out.push(`b. login throughput (${P.throughputClients} concurrent clients, ${P.throughputSeconds} s each)`);
  out.push(
    table(
      ['target', 'logins/s', '2 s slices min-max', 'vs direct', 'vs nginx', 'errors'],
      mainRows.map((t) => {
        const r = thr[t.name];
        const range = `${f1(Math.min(...r.sliceRates))}-${f1(Math.max(...r.sliceRates))}`;
        return [t.name, f1(r.perSecond), range, f2(ratio(r.perSecond, thr[d].perSecond)), f2(ratio(r.perSecond, thr[n].perSecond)), r.errors];
      }),
    ),
  );
  out.push('');
  out.push(`c. bulk (FETCH BODY.PEEK[] of a ${(P.bulkBytes / 1e6).toFixed(1)} MB message, ${P.bulkFetches} times; MB = 10^6 bytes)`);
  out.push(
    table(
      ['target', 'MB/s', 'min', 'max', 'vs direct', 'vs nginx'],
      Object.entries(blk).map(([name, r]) => [name, f1(r.MBps), f1(r.minMBps), f1(r.maxMBps), f2(ratio(r.MBps, blk[d].MBps)), f2(ratio(r.MBps, blk[n].MBps))]),
    ),
  );
  out.push('');
  out.push(`d. memory (RSS, KiB; ${memConns} logged-in idle connections, opened ${P.openConcurrency} at a time; "warm" = after ${P.openConcurrency}x${P.memoryWarmupPerClient} concurrent logins, all closed)`);
  out.push(
    table(
      ['process', 'idle fresh', 'idle warm', `${memConns} conns`, 'KiB/conn'],
      [
        ['twostep serve (app-code logins)', memTs.idleFreshKiB, memTs.idleWarmKiB, memTs.loadedKiB, f1(memTs.perConnKiB)],
        [`nginx master+${P.nginxWorkers} worker`, memNg.idleFreshKiB, memNg.idleWarmKiB, memNg.loadedKiB, f1(memNg.perConnKiB)],
      ],
    ),
  );
  out.push('');
  out.push('refused logins (sanity check; the wrong password, or for the app-code user the main password):');
  for (const [name, c] of Object.entries(checks)) {
    out.push(`  ${name.padEnd(22)} ${f1(c.ms).padStart(7)} ms  connection ${c.stillOpen ? 'stays open' : 'CLOSED'}  ${c.refusal}`);
  }
  out.push('');
  out.push(`bench took ${elapsedS.toFixed(0)} s`);
  console.log(out.join('\n'));

  const results = {
    at: new Date().toISOString(),
    quick,
    elapsedSeconds: +elapsedS.toFixed(1),
    machine,
    params: { ...P, memoryConnections: memConns },
    latencyMs: lat,
    latencyRatios: Object.fromEntries(mainRows.map((t) => [t.name, { vsDirect: ratio(lat[t.name].p50, lat[d].p50), vsNginx: ratio(lat[t.name].p50, lat[n].p50) }])),
    throughput: thr,
    bulk: blk,
    memory: { twostep: memTs, nginx: memNg },
    refusals: checks,
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  fs.writeFileSync(path.join(here, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('wrote bench/results/latest.json');
} catch (err) {
  exitCode = 1;
  console.error(`bench failed: ${err?.stack ?? err}`);
} finally {
  await cleanup();
}
process.exit(exitCode);
