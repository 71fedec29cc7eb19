#!/usr/bin/env node
// Scratch driver (not a scenario): idle TLS memory and CPU cost, side by side, for variants of how
// twostep `serve` (or the plain-Node comparison server) runs: malloc, Node binary and flags, TLS
// settings reached through --import hooks (memory-variant-hooks.mjs), another checkout's build.
// Per variant and round, a fresh child:
//   memory     RSS after GC etc. per idle session: N sessions over TLS (LOGIN, SELECT, IDLE), average
//              (warm -> N) and marginal (N/2 -> N), as idle-memory-probe.mjs (first, before a FETCH
//              leaves freed buffers for the sessions to reuse);
//   login CPU  µs of the child's CPU (utime+stime) per TLS login (app code repeated, full handshake;
//              the comparison server: the user's own password piped to Dovecot), 8 clients;
//   FETCH TLS  FETCH 1:* BODY.PEEK[] of 2,000 x 16 KiB over TLS on one connection: median ms, and
//              the child's CPU ms per FETCH (over all of them: CPU time comes in 10 ms ticks).
// Variants alternate within each round (rotated); medians over rounds. Prints a markdown table
// (docs/memory.md) and writes --out=FILE (JSON with every sample).
//   node bench/lib/memory-variants.mjs [--n=1000] [--rounds=3] [--logins=600] [--fetches=10]
//     [--only=id,id] [--node22=PATH] [--base=DIR] [--out=FILE]
// --node22: a Node 22 binary (`npm i node@22` in a scratch folder); twostep's native modules are
//   built for Node 20, so under Node 22 only the comparison server runs.
// --base=DIR: a checkout with its own dist/ and node_modules (e.g. the commit before a src change),
//   run as the variant `base` beside this checkout. --base-workers=1: its `[server] workers` (give
//   it when that checkout knows the key: otherwise it runs one worker per core and the figures
//   are the supervisor's).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { freePort } from '../../scripts/demo-backend.mjs';
import { startEnv } from './env.mjs';
import { openIdle, perConnection, sampleMemory, writeMemoryHook } from './idle-memory.mjs';
import { ImapConn, loginRound, quote } from './imap-client.mjs';
import { message } from '../scenarios/imap-download.mjs';
import { writeVariantHooks } from './memory-variant-hooks.mjs';
import { sleep, stopChild } from './proc.mjs';
import { median } from './stats.mjs';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const N = Number(arg('n', '1000'));
const ROUNDS = Number(arg('rounds', '3'));
const LOGINS = Number(arg('logins', '600'));
const FETCHES = Number(arg('fetches', '10'));
const NODE22 = arg('node22', '');
const BASE = arg('base', '');
const here = path.dirname(new URL(import.meta.url).pathname);
const log = (s) => process.stderr.write(`[variants] ${s}\n`);

const MIMALLOC = { LD_PRELOAD: 'libmimalloc.so.2' };
/** id, what, and how the child runs: env, nodeArgs, hook (memory-variant-hooks), execPath, bare (comparison server mode), repoDir. */
const VARIANTS = [
  { id: 'shipped', what: 'twostep as shipped (Node 20, glibc malloc)' },
  ...(BASE ? [{ id: 'base', what: `twostep from ${BASE}`, repoDir: BASE, workers: arg('base-workers', '') ? Number(arg('base-workers', '')) : undefined }] : []),
  { id: 'mmap64', what: 'glibc mmap_threshold = 64 KiB', env: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' } },
  { id: 'mmap16', what: 'glibc mmap_threshold = 16 KiB', env: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=16384' } },
  { id: 'jemalloc', what: 'jemalloc 5.3 (LD_PRELOAD)', env: { LD_PRELOAD: 'libjemalloc.so.2' } },
  { id: 'mimalloc', what: 'mimalloc 2.0 (LD_PRELOAD)', env: MIMALLOC },
  { id: 'semi1', what: '--max-semi-space-size=1', nodeArgs: ['--max-semi-space-size=1'] },
  { id: 'semi2', what: '--max-semi-space-size=2', nodeArgs: ['--max-semi-space-size=2'] },
  { id: 'pool1', what: '--v8-pool-size=1', nodeArgs: ['--v8-pool-size=1'] },
  { id: 'noticket', what: 'TLS: no tickets (SSL_OP_NO_TICKET)', hook: 'no-ticket' },
  { id: 'timeout0', what: 'TLS: session timeout 0', hook: 'session-timeout-0' },
  { id: 'bit0x10', what: 'TLS: secureOptions with bit 0x10 (the value of SSL_MODE_RELEASE_BUFFERS)', hook: 'release-buffers-bit' },
  { id: 'frag1k', what: 'TLS: setMaxSendFragment(1024)', hook: 'send-fragment-1k' },
  { id: 'jswrap', what: 'TLS over a JS-stream wrapper', hook: 'jswrap' },
  { id: 'jswrap+mimalloc', what: 'TLS over a JS-stream wrapper + mimalloc', hook: 'jswrap', env: MIMALLOC },
  { id: 'bare20', what: 'comparison server (TLSSocket piped to Dovecot), Node 20', bare: 'wrap' },
  { id: 'bare20+mimalloc', what: 'comparison server, Node 20 + mimalloc', bare: 'wrap', env: MIMALLOC },
  { id: 'bare20prefill', what: 'comparison server, TLSSocket made once the ClientHello is buffered, Node 20', bare: 'prefill' },
  ...(NODE22
    ? [
        { id: 'bare22', what: 'comparison server, Node 22', bare: 'wrap', execPath: NODE22 },
        { id: 'bare22+mimalloc', what: 'comparison server, Node 22 + mimalloc', bare: 'wrap', execPath: NODE22, env: MIMALLOC },
        { id: 'bare22prefill', what: 'comparison server, TLSSocket made once the ClientHello is buffered, Node 22', bare: 'prefill', execPath: NODE22 },
      ]
    : []),
];
const only = arg('only', '').split(',').filter(Boolean);
const chosen = only.length ? VARIANTS.filter((v) => only.includes(v.id)) : VARIANTS;

const TICK_US = 1e6 / 100; // USER_HZ
function cpuUs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

/** A child for variant v: { pid, stop, login target, fetch target, out (memory samples) }. */
async function startVariant(env, v, round, files) {
  const out = path.join(env.root, `mem-${v.id}-${round}.json`);
  const imports = [files.hook, ...(v.hook ? [files.hooks[v.hook]] : [])].map((f) => `--import=${f}`);
  const childEnv = { ...(v.env ?? {}), MEMPROBE_OUT: out, NODE_OPTIONS: imports.join(' ') };
  if (v.bare) {
    const port = await freePort();
    const proc = spawn(v.execPath ?? process.execPath, [...(v.nodeArgs ?? []), path.join(here, 'idle-memory-compare-server.mjs'), v.bare, String(port), String(env.dovecot.imapPort), env.cert.cert, env.cert.key], {
      stdio: 'inherit', env: { ...process.env, ...childEnv },
    });
    for (let i = 0; ; i++) {
      try {
        (await ImapConn.open({ port, tls: true, timeoutMs: 1000 })).close();
        break;
      } catch (err) {
        if (i > 100 || proc.exitCode !== null) throw new Error(`comparison server did not start: ${err.message}`);
        await sleep(100);
      }
    }
    const target = { port, tls: true, user: 'plain', password: 'plain-main-password' };
    return { pid: proc.pid, stop: () => stopChild(proc), login: target, fetch: target, out };
  }
  const ts = await env.startTwostep({ name: `v-${v.id}-${round}`, execPath: v.execPath, nodeArgs: v.nodeArgs, env: childEnv, repoDir: v.repoDir, workers: v.workers });
  return { pid: ts.pid, stop: ts.stop, login: env.target.twostepTls('tfa', ts), fetch: env.target.twostepTls('plain', ts), out };
}

async function measure(env, v, round, files) {
  const c = await startVariant(env, v, round, files);
  try {
    // Warm up (JIT, the login cache), as idle-memory-probe.mjs does.
    await Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; i < 4; i++) await loginRound(c.login, c.login.user, c.login.password); }));
    // Memory first, on a child that has not yet freed a FETCH's buffers: warm -> N/2 -> N idle sessions.
    const warm = await sampleMemory(c.pid, c.out);
    const conns = await openIdle(c.login, N / 2);
    let mem;
    try {
      const mid = await sampleMemory(c.pid, c.out);
      conns.push(...(await openIdle(c.login, N / 2)));
      const full = await sampleMemory(c.pid, c.out);
      const alive = conns.filter((x) => !x.closed).length;
      if (alive !== N) throw new Error(`only ${alive}/${N} sessions open`);
      mem = { average: perConnection(warm, full, N), marginal: perConnection(mid, full, N / 2), warmRssKiB: warm.rss / 1024 };
    } finally {
      for (const x of conns) x.close();
    }
    // CPU per login: LOGINS rounds, 8 clients (CPU time in 10 ms ticks: hundreds of logins).
    let left = LOGINS;
    const cpu0 = cpuUs(c.pid);
    await Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await loginRound(c.login, c.login.user, c.login.password); }));
    const loginCpuUs = (cpuUs(c.pid) - cpu0) / LOGINS;
    // FETCH over TLS on one connection: one warm-up, then FETCHES timed; CPU over all of them.
    const conn = await ImapConn.open(c.fetch);
    const fetchMs = [];
    let fetchCpuMs;
    try {
      if ((await conn.command(`LOGIN ${quote(c.fetch.user)} ${quote(c.fetch.password)}`)).status !== 'OK') throw new Error('fetch LOGIN');
      if ((await conn.command('EXAMINE INBOX')).status !== 'OK') throw new Error('EXAMINE');
      let u0 = 0;
      for (let i = 0; i <= FETCHES; i++) {
        if (i === 1) u0 = cpuUs(c.pid);
        const t0 = performance.now();
        const r = await conn.command('FETCH 1:* (BODY.PEEK[])', 300_000);
        if (r.status !== 'OK' || r.literalBytes < 2000 * 16 * 1024) throw new Error(`FETCH: ${r.line}`);
        if (i > 0) fetchMs.push(performance.now() - t0);
      }
      fetchCpuMs = (cpuUs(c.pid) - u0) / 1000 / FETCHES;
    } finally {
      conn.close();
    }
    return { ...mem, loginCpuUs, fetchMs: median(fetchMs), fetchCpuMs };
  } finally {
    await c.stop();
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-variants-'));
const cleanups = [];
const results = Object.fromEntries(chosen.map((v) => [v.id, []]));
try {
  const env = await startEnv({ root, log, onCleanup: (fn) => cleanups.push(fn) });
  log('filling the mailbox of plain: 2,000 x 16 KiB');
  for (let i = 0; i < 2000; i++) env.dovecot.deliver('plain', message(16 * 1024, `variants ${i}`));
  const files = { ...writeMemoryHook(root), hooks: writeVariantHooks(root) };
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < chosen.length; i++) {
      const v = chosen[(i + r) % chosen.length];
      try {
        const m = await measure(env, v, r, files);
        results[v.id].push(m);
        log(`round ${r + 1} ${v.id}: rss/conn ${m.average.rss.toFixed(1)} avg, ${m.marginal.rss.toFixed(1)} marginal KiB; login ${m.loginCpuUs.toFixed(0)} µs CPU; FETCH ${m.fetchMs.toFixed(0)} ms, ${m.fetchCpuMs.toFixed(0)} ms CPU`);
      } catch (err) {
        log(`round ${r + 1} ${v.id}: FAILED ${err?.stack ?? err}`);
      }
    }
  }
} finally {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  fs.rmSync(root, { recursive: true, force: true });
}

const med = (id, f) => median(results[id].map(f));
const baseOf = (v) => (v.bare ? 'bare20' : 'shipped');
const pct = (id, base, f) => (results[base]?.length && results[id].length ? `${((100 * med(id, f)) / med(base, f) - 100).toFixed(0)} %` : '');
const rows = chosen.filter((v) => results[v.id].length).map((v) => {
  const b = baseOf(v);
  const cpu = (m) => m.loginCpuUs;
  const fcpu = (m) => m.fetchCpuMs;
  return `| ${v.what} | ${med(v.id, (m) => m.average.rss).toFixed(1)} / ${med(v.id, (m) => m.marginal.rss).toFixed(1)} | ${med(v.id, (m) => m.average.heapUsed).toFixed(1)} | ${med(v.id, (m) => m.average.external).toFixed(1)} | ` +
    `${med(v.id, cpu).toFixed(0)} (${v.id === b ? 'base' : pct(v.id, b, cpu)}) | ${med(v.id, (m) => m.fetchMs).toFixed(0)} | ${med(v.id, fcpu).toFixed(0)} (${v.id === b ? 'base' : pct(v.id, b, fcpu)}) | ${results[v.id].length} |`;
});
console.log(`N = ${N} idle TLS sessions, ${LOGINS} logins, ${FETCHES} FETCHes per variant and round; medians over rounds\n`);
console.log('| variant | RSS KiB/session, average / marginal | V8 heap used KiB/session | external KiB/session | login CPU µs (vs base) | FETCH ms | FETCH CPU ms (vs base) | rounds |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
const outFile = arg('out', '');
if (outFile) fs.writeFileSync(outFile, `${JSON.stringify({ at: new Date().toISOString(), N, LOGINS, FETCHES, variants: chosen, results }, null, 2)}\n`);
