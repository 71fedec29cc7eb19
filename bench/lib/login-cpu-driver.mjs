// Scratch profiling driver (not a scenario): CPU time the `twostep serve` child spends per login.
// Starts the bench world (Dovecot + twostep), then for each side runs N login rounds with C
// concurrent clients and reads the child's utime+stime from /proc before and after.
//
//   node bench/lib/login-cpu-driver.mjs [--n=2000] [--clients=16] [--prof=DIR]
//
// --prof=DIR starts an extra twostep child under `node --cpu-prof --cpu-prof-dir=DIR` and runs
// the app-code side against it (the profile is written when the child exits).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEnv } from './env.mjs';
import { ImapConn, loginRound } from './imap-client.mjs';
import { sleep, stopChild } from './proc.mjs';
import { spawn } from 'node:child_process';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const N = Number(args.n ?? 2000);
const CLIENTS = Number(args.clients ?? 8);
const TICK_US = 1e6 / 100; // USER_HZ on Linux

function cpuUs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) * TICK_US, Number(f[12]) * TICK_US]; // utime, stime
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

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'login-cpu-'));
const cleanups = [];
try {
  const env = await startEnv({ root, log: (s) => console.error(s), onCleanup: (fn) => cleanups.push(fn) });
  let ts = env.twostep;
  if (args.prof) {
    fs.mkdirSync(args.prof, { recursive: true });
    // Same config and ports as the main child, restarted under the profiler.
    await ts.stop();
    const proc = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.prof)}`, 'bin/twostep', '--config', ts.configPath, 'serve'], { stdio: 'inherit' });
    for (;;) {
      try {
        (await ImapConn.open({ port: ts.port, timeoutMs: 1000 })).close();
        break;
      } catch {
        await sleep(50);
      }
    }
    cleanups.push(() => stopChild(proc));
    ts = { ...ts, pid: proc.pid };
  }
  for (const [side, target] of [
    ['passthrough', env.target.twostep('plain', ts)],
    ['app code, repeated', env.target.twostep('tfa', ts)],
  ]) {
    await run(target, 200, CLIENTS); // warm up
    // --strace=FILE: syscall counts of the measured run (strace -c; slows the child down).
    const st = args.strace ? spawn('strace', ['-c', '-f', '-o', `${args.strace}.${side.replace(/\W+/g, '-')}`, '-p', String(ts.pid)], { stdio: 'ignore' }) : null;
    if (st) await sleep(500);
    const c0 = cpuUs(ts.pid);
    const rate = await run(target, N, CLIENTS);
    if (st) {
      st.kill('SIGINT');
      await new Promise((r) => st.once('exit', r));
    }
    const c1 = cpuUs(ts.pid);
    const user = (c1[0] - c0[0]) / N;
    const sys = (c1[1] - c0[1]) / N;
    console.log(`${side.padEnd(20)} ${(user + sys).toFixed(0).padStart(6)} µs CPU/login (user ${user.toFixed(0)}, sys ${sys.toFixed(0)})  ${rate.toFixed(0).padStart(6)} logins/s (${CLIENTS} clients, ${N} logins)`);
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
  fs.rmSync(root, { recursive: true, force: true });
}
