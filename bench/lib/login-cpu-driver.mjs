// Scratch profiling driver (not a scenario): CPU time the `twostep serve` child spends per login.
// Starts the bench world (Dovecot + twostep), then for each side runs N login rounds with C
// concurrent clients and reads the child's utime+stime from /proc before and after (CPU time is
// far less load-dependent than logins/s on a shared machine).
//
//   node bench/lib/login-cpu-driver.mjs [--n=2000] [--clients=8] [--rounds=1] [--builds=DIR,DIR]
//                                       [--prof=DIR] [--strace=FILE]
//
// --builds: checkouts with a built dist/ (default: this one), each run as the serve child in
//   turn, rounds times, with the same config (A/B of two builds in one run).
// --prof=DIR: the child runs under `node --cpu-prof --cpu-prof-dir=DIR` (written at its exit).
// --node-flags='--a --b': V8/node flags for the child (e.g. --max-semi-space-size=16).
// --threads=1: also µs per login by thread name.
// --side=passthrough|app: only that side (e.g. for a profile of one kind of login).
// --tls=1: logins over implicit TLS (a full handshake each) instead of plaintext.
// --perf=FILE: `perf record` (cpu-clock, call graphs) of each measured run; add
//   --node-flags=--perf-basic-prof for JS names.
// --strace=FILE: syscall counts of each measured run (strace -c; slows the child down).
// Note: more than [auth] user_failures concurrent passthrough logins of one user are refused
// while their verdicts are pending (the throttle's hold), hence 8 clients by default.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEnv } from './env.mjs';
import { ImapConn, loginRound } from './imap-client.mjs';
import { sleep, stopChild } from './proc.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.join('=')]; }));
const N = Number(args.n ?? 2000);
const CLIENTS = Number(args.clients ?? 8);
const ROUNDS = Number(args.rounds ?? 1);
const BUILDS = (args.builds ?? repo).split(',').map((d) => path.resolve(d));
const TICK_US = 1e6 / 100; // USER_HZ on Linux

/** [utime, stime] of pid in µs. */
function cpuUs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) * TICK_US, Number(f[12]) * TICK_US];
}

/** µs of CPU per thread name (main thread = 'node'; V8 GC/compiler workers, libuv pool). */
function threadsUs(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = `${fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim()}#${tid}`;
      const [u, s] = cpuUs(`${pid}/task/${tid}`);
      out[name] = (out[name] ?? 0) + u + s;
    } catch {
      /* gone */
    }
  }
  return out;
}

async function run(target, n, clients) {
  let left = n;
  const worker = async () => {
    while (left-- > 0) await loginRound(target, target.user, target.password);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function startChild(dir, configPath, port) {
  const prof = args.prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.prof)}`] : [];
  const flags = args['node-flags'] ? args['node-flags'].split(' ') : [];
  const proc = spawn(process.execPath, [...flags, ...prof, path.join(dir, 'bin/twostep'), '--config', configPath, 'serve'], { cwd: dir, stdio: 'inherit' });
  for (;;) {
    try {
      (await ImapConn.open({ port, timeoutMs: 1000 })).close();
      return proc;
    } catch {
      if (proc.exitCode !== null) throw new Error(`serve from ${dir} exited`);
      await sleep(50);
    }
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'login-cpu-'));
const cleanups = [];
const results = new Map();
try {
  const env = await startEnv({ root, log: (s) => console.error(s), onCleanup: (fn) => cleanups.push(fn) });
  const ts = env.twostep;
  await ts.stop(); // restarted below from each build, same config and ports
  for (let round = 0; round < ROUNDS; round++) {
    for (const dir of BUILDS) {
      const proc = await startChild(dir, ts.configPath, ts.port);
      try {
        for (const [side, target] of [
          ['passthrough', args.tls ? env.target.twostepTls('plain') : env.target.twostep('plain')],
          ['app code, repeated', args.tls ? env.target.twostepTls('tfa') : env.target.twostep('tfa')],
        ].filter(([side]) => !args.side || side.startsWith(args.side))) {
          await run(target, 200, CLIENTS); // warm up
          const st = args.strace ? spawn('strace', ['-c', '-f', '-o', `${args.strace}.${side.replace(/\W+/g, '-')}`, '-p', String(proc.pid)], { stdio: 'ignore' }) : null;
          const pf = args.perf ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '4000', '-g', '-o', `${args.perf}.${side.replace(/\W+/g, '-')}`, '-p', String(proc.pid)], { stdio: 'ignore' }) : null;
          if (st || pf) await sleep(500);
          const t0 = args.threads ? threadsUs(proc.pid) : {};
          const c0 = cpuUs(proc.pid);
          const rate = await run(target, N, CLIENTS);
          const c1 = cpuUs(proc.pid);
          if (args.threads) {
            const t1 = threadsUs(proc.pid);
            console.log(Object.entries(t1).map(([k, v]) => `${k} ${((v - (t0[k] ?? 0)) / N).toFixed(0)}`).join(', '));
          }
          if (pf) {
            pf.kill('SIGINT');
            await new Promise((r) => pf.once('exit', r));
          }
          if (st) {
            st.kill('SIGINT');
            await new Promise((r) => st.once('exit', r));
          }
          const user = (c1[0] - c0[0]) / N;
          const sys = (c1[1] - c0[1]) / N;
          const key = `${side.padEnd(20)} ${dir}`;
          results.set(key, [...(results.get(key) ?? []), user + sys]);
          console.log(`${key}: ${(user + sys).toFixed(0).padStart(5)} µs CPU/login (user ${user.toFixed(0)}, sys ${sys.toFixed(0)}), ${rate.toFixed(0)} logins/s (${CLIENTS} clients, ${N} logins)`);
        }
      } finally {
        await stopChild(proc);
      }
    }
  }
  if (ROUNDS > 1) {
    console.log('--- median µs CPU/login');
    for (const [key, v] of results) console.log(`${key}: ${v.sort((a, b) => a - b)[v.length >> 1].toFixed(0)}  [${v.map((x) => x.toFixed(0)).join(' ')}]`);
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
  fs.rmSync(root, { recursive: true, force: true });
}
