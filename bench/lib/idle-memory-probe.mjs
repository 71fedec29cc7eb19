#!/usr/bin/env node
// Scratch measurement (not a scenario): where does the memory of idle IMAP-over-TLS sessions go?
// Starts the bench world, then a `twostep serve` child with a hook (--import) that on SIGUSR2
// collects garbage and writes process.memoryUsage() + /proc RssAnon; opens N sessions (TLS,
// LOGIN with the app code, SELECT, IDLE) and prints per-connection deltas by category.
//   node bench/lib/idle-memory-probe.mjs [--n=300] [--phase=greeting|login|idle] [--user=tfa|plain]
//     [--node-flags="--max-semi-space-size=1"] [--env=MALLOC_ARENA_MAX=1] [--snap] [--keep]
//     [--heaptrack-run] [--bare=SCRIPT:MODE]
// --snap: heap snapshots (warm and loaded) kept in the temp folder; --keep: keep that folder;
// --heaptrack-run: twostep under heaptrack (native allocations by call site at the peak);
// --bare=bench/lib/idle-memory-compare-server.mjs:MODE: a plain-Node comparison server instead of twostep. Logins go 8 at a time:
// more parallel logins of one user trip the user throttle's pending-attempt hold.
// Needs root and dist/ (npm run build), like `npm run bench`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEnv } from './env.mjs';
import { openIdle as openSessions, perConnection, MEMORY_KEYS, sampleMemory, writeMemoryHook } from './idle-memory.mjs';
import { loginRound } from './imap-client.mjs';
import { childPids, rssKiB, sleep } from './proc.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const N = Number(arg('n', '300'));
// --phase=greeting|login|idle: how far each session goes (greeting: TLS + greeting only, pre-auth).
const phase = arg('phase', 'idle');
const nodeFlags = arg('node-flags', '');
const snap = process.argv.includes('--snap');
// --env=K=V,K=V: extra environment for the child (e.g. MALLOC_ARENA_MAX=1).
for (const kv of arg('env', '').split(',').filter(Boolean)) process.env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
const log = (s) => process.stderr.write(`[probe] ${s}\n`);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-memprobe-'));
const cleanups = [];
const { hook, out } = writeMemoryHook(root);

async function sample(ts, label, wantSnap = false) {
  const m = await sampleMemory(ts.pid, out, { snap: wantSnap });
  log(`${label}: rss ${(m.rss / 1024) | 0} KiB (before gc ${(m.rssBeforeGc / 1024) | 0}), heapUsed ${(m.heapUsed / 1024) | 0}, external ${(m.external / 1024) | 0}, arrayBuffers ${(m.arrayBuffers / 1024) | 0}${m.snap ? `, snapshot ${m.snap}` : ''}`);
  return m;
}

try {
  const env = await startEnv({ root, log, onCleanup: (fn) => cleanups.push(fn) });
  process.env.MEMPROBE_OUT = out;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${hook} ${nodeFlags}`.trim();
  // --bare=SCRIPT:MODE: a comparison server (argv: MODE tlsPort backendPort cert key) instead of twostep.
  const bare = arg('bare', '');
  let ts;
  let target;
  if (bare) {
    const [script, mode] = bare.split(':');
    const { spawn } = await import('node:child_process');
    const { freePort } = await import('../../scripts/demo-backend.mjs');
    const port = await freePort();
    const proc = spawn(process.execPath, [script, mode, String(port), String(env.dovecot.imapPort), env.cert.cert, env.cert.key], { stdio: 'inherit' });
    cleanups.push(() => proc.kill());
    await sleep(1000);
    ts = { pid: proc.pid };
    target = { port, tls: true, user: 'plain', password: 'plain-main-password' };
  } else {
    ts = await env.startTwostep({ name: 'twostep-probe' });
    if (process.argv.includes('--heaptrack-run')) {
      // Restart the same config under `heaptrack` (LD_PRELOAD; from the start).
      await ts.stop();
      const { spawn } = await import('node:child_process');
      const proc = spawn('heaptrack', ['-o', path.join(root, 'ht'), process.execPath, 'bin/twostep', '--config', ts.configPath, 'serve'], { stdio: 'inherit' });
      await sleep(8000);
      const pid = childPids(proc.pid).find((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('twostep')) ?? childPids(childPids(proc.pid)[0] ?? 0)[0];
      log(`heaptrack pid ${proc.pid}, node pid ${pid}`);
      ts = { ...ts, pid, stop: async () => { process.kill(pid, 'SIGTERM'); await new Promise((r) => proc.once('exit', r)); } };
      cleanups.push(() => ts.stop());
    }
    target = env.target.twostepTls(arg('user', 'tfa'), ts); // --user=plain: passthrough login
  }
  await loginRound(target, target.user, target.password); // one first: the rest hit the login cache
  await Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; i < 4; i++) await loginRound(target, target.user, target.password); }));
  const warm = await sample(ts, 'warm', snap);
  const openIdle = (t, n) => openSessions(t, n, { phase });
  const half = await openIdle(target, N / 2);
  const mid = await sample(ts, `${N / 2} idle`);
  const rest = await openIdle(target, N / 2);
  const full = await sample(ts, `${N} idle`, snap);
  const rssNoGc = rssKiB(ts.pid);
  const avg = perConnection(warm, full, N);
  const marg = perConnection(mid, full, N / 2);
  console.log(`flags: ${nodeFlags || '(none)'}; env: ${arg('env', '') || '(none)'}; N = ${N}`);
  console.log(`KiB per connection   ${MEMORY_KEYS.join('  ')}`);
  console.log(`average (warm->N)    ${MEMORY_KEYS.map((k) => avg[k].toFixed(1)).join('  ')}`);
  console.log(`marginal (N/2->N)    ${MEMORY_KEYS.map((k) => marg[k].toFixed(1)).join('  ')}`);
  console.log('heap spaces used per conn (warm->N):', Object.fromEntries(Object.keys(full.spaces).map((s) => [s, ((full.spaces[s] - warm.spaces[s]) / 1024 / N).toFixed(2)])));
  console.log(`rss now (no gc) ${rssNoGc} KiB`);
  for (const c of [...half, ...rest]) c.close();
  if (process.argv.includes('--heaptrack-run')) log(`heaptrack data: ${path.join(root, 'ht.zst')} (heaptrack_print --print-peaks 1 -n 25 FILE)`);
} finally {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  if (!snap && !process.argv.includes('--keep')) fs.rmSync(root, { recursive: true, force: true });
}
