#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only=id,id] [-- --twostep-workers=1,2]: real Dovecot (and Postfix for the SMTP scenario),
// twostep in front of them, and nginx's mail proxy (when Debian's nginx + libnginx-mod-mail are
// installed) on loopback; each scenario in bench/scenarios/ runs its sides in alternation
// (A B C A B C ...) and reports medians and ratios to the first side ("direct" = Dovecot or Postfix without a proxy).
// Output: a table on stdout, bench/results.json. Needs root (the private Dovecot and Postfix), like the tests.
// --quick: fewer rounds and 300 idle connections, under 2 minutes; for trying, not for the README.
// --twostep-workers=1,2: the plaintext and TLS login rows also run twostep with `[server] workers = N` (issue 14;
// without it every twostep side is one process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDovecotBinary } from '../scripts/demo-backend.mjs';
import { startEnv } from './lib/env.mjs';
import { fdLimits } from './lib/proc.mjs';
import { Recorder } from './lib/recorder.mjs';
import { scenarios } from './scenarios/index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const twostepWorkers = (args.find((a) => a.startsWith('--twostep-workers='))?.slice('--twostep-workers='.length).split(',') ?? [])
  .filter(Boolean)
  .map(Number);
if (twostepWorkers.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error('bench: --twostep-workers takes whole numbers >= 1, e.g. --twostep-workers=1,2');
  process.exit(2);
}
const t0 = Date.now();
const log = (s) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

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
const unknown = (only ?? []).filter((id) => !scenarios.some((s) => s.id === id));
if (unknown.length) {
  console.error(`bench: unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

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

/** Share of all cores busy over ms (from /proc/stat), in percent. */
async function cpuBusy(ms) {
  const read = () => {
    const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return Math.round(100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)));
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-bench-'));
cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
const rec = new Recorder(log);
let exitCode = 0;
try {
  const machine = {
    node: process.version,
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? '?',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    openFiles: fdLimits(),
    backgroundCpuBusyPercent: await cpuBusy(1000),
  };
  log(`background CPU load: ${machine.backgroundCpuBusyPercent}% of ${machine.cores} cores busy`);
  const env = await startEnv({ root, log, onCleanup: (fn) => cleanups.push(fn) });
  machine.dovecot = env.dovecotVersion;
  machine.nginx = env.nginx?.version ?? null;

  for (const s of scenarios) {
    if (only && !only.includes(s.id)) continue;
    log(`${s.id}: ${s.title}`);
    try {
      await s.run({ env, rec, quick, log, twostepWorkers });
    } catch (err) {
      exitCode = 1;
      log(`${s.id} FAILED: ${err?.stack ?? err}`);
      rec.note(s.id, `FAILED: ${err?.message ?? err}`);
    }
  }

  const seconds = (Date.now() - t0) / 1000;
  const head = [
    `twostep bench — ${new Date().toISOString()}${quick ? ' (--quick: few rounds)' : ''}, ${seconds.toFixed(0)} s`,
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Linux ${machine.kernel}, node ${machine.node}; ` +
      `${machine.backgroundCpuBusyPercent}% CPU busy before start`,
    `Dovecot ${machine.dovecot}; nginx ${machine.nginx ?? 'not installed'}; all on loopback, client and servers share the cores`,
    '',
  ];
  console.log([...head, rec.render()].join('\n'));
  const results = {
    at: new Date().toISOString(),
    quick,
    seconds: +seconds.toFixed(1),
    machine,
    results: rec.rows,
    targets: rec.targets,
    notes: rec.notes,
  };
  fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(mergedWithLastRun(results), null, 2)}\n`);
  log('wrote bench/results.json');
} catch (err) {
  exitCode = 1;
  console.error(`bench failed: ${err?.stack ?? err}`);
} finally {
  await cleanup();
}
process.exit(exitCode);

/**
 * --only (not --quick) re-runs some scenarios of the last full run: their rows, targets and notes
 * replace the old ones in results.json, the rest stays, and `reruns` says which came when. A quick
 * run, or one with no full run before it, is written as it is.
 */
function mergedWithLastRun(results) {
  if (!only || quick) return results;
  let last;
  try {
    last = JSON.parse(fs.readFileSync(path.join(here, 'results.json'), 'utf8'));
  } catch {
    return results;
  }
  if (last.quick) return results;
  const mine = (x) => only.includes(x.scenario);
  return {
    ...last,
    results: [...last.results.filter((x) => !mine(x)), ...results.results],
    targets: [...last.targets.filter((x) => !mine(x)), ...results.targets],
    notes: [...last.notes.filter((x) => !mine(x)), ...results.notes],
    reruns: [...(last.reruns ?? []), { at: results.at, scenarios: only, seconds: results.seconds, machine: results.machine }],
  };
}
