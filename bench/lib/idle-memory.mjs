// Shared by the idle-memory scratch drivers (idle-memory-probe.mjs, memory-variants.mjs): a hook
// module a Node child loads with --import, which on SIGUSR2 collects garbage and writes
// process.memoryUsage() + /proc RssAnon + V8 heap spaces to a file; reading that from outside;
// and opening N idle IMAP sessions (TLS, LOGIN, SELECT, IDLE) against a target.
import fs from 'node:fs';
import path from 'node:path';
import { ImapConn, quote } from './imap-client.mjs';
import { sleep } from './proc.mjs';

/**
 * Write the hook into dir; returns { hook, out }: load the hook with `--import=${hook}` and
 * MEMPROBE_OUT=${out} in the child's environment. A file `${out}.snap-wanted` asks the next
 * sample for a heap snapshot as well.
 */
export function writeMemoryHook(dir) {
  const hook = path.join(dir, 'memory-hook.mjs');
  fs.writeFileSync(
    hook,
    `import fs from 'node:fs'; import v8 from 'node:v8'; import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  const before = Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  gc(); gc();
  const m = process.memoryUsage(); const st = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(st)?.[1] ?? 0);
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  let snap;
  if (fs.existsSync(process.env.MEMPROBE_OUT + '.snap-wanted')) { fs.unlinkSync(process.env.MEMPROBE_OUT + '.snap-wanted'); snap = v8.writeHeapSnapshot(process.env.MEMPROBE_OUT + '.' + Date.now() + '.heapsnapshot'); }
  fs.writeFileSync(process.env.MEMPROBE_OUT + '.tmp', JSON.stringify({ rssBeforeGc: before * 1024, ...m, rssAnon: kb('RssAnon') * 1024, spaces, snap }));
  fs.renameSync(process.env.MEMPROBE_OUT + '.tmp', process.env.MEMPROBE_OUT);
});
`,
  );
  return { hook, out: path.join(dir, 'mem.json') };
}

/**
 * After settleMs, ask the child (pid, loaded with the hook writing to `out`) for a sample:
 * { rss, rssBeforeGc, rssAnon, heapTotal, heapUsed, external, arrayBuffers } in bytes, spaces, snap.
 */
export async function sampleMemory(pid, out, { snap = false, settleMs = 1500 } = {}) {
  await sleep(settleMs);
  fs.rmSync(out, { force: true });
  if (snap) fs.writeFileSync(`${out}.snap-wanted`, '');
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600 && !fs.existsSync(out); i++) await sleep(100);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

/** The per-connection figures (KiB) between two samples over n connections. */
export const MEMORY_KEYS = ['rssBeforeGc', 'rss', 'rssAnon', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
export function perConnection(a, b, n) {
  return Object.fromEntries(MEMORY_KEYS.map((k) => [k, (b[k] - a[k]) / 1024 / n]));
}

/**
 * Open `count` sessions to target, `concurrency` at a time (all log in as one user: keep it below
 * limits.userLoginsInFlight); phase: how far each goes ('greeting': TLS + greeting; 'login';
 * 'idle': LOGIN, SELECT INBOX, IDLE).
 */
export async function openIdle(target, count, { phase = 'idle', concurrency = 8 } = {}) {
  const conns = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const c = await ImapConn.open(target);
      conns.push(c);
      if (phase === 'greeting') continue;
      const l = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
      if (l.status !== 'OK') throw new Error(`LOGIN: ${l.line}`);
      if (phase === 'login') continue;
      const s = await c.command('SELECT INBOX');
      if (s.status !== 'OK') throw new Error(`SELECT: ${s.line}`);
      await c.idle();
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
