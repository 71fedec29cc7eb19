// Scratch driver (not a scenario): how connections reach [server] workers. Starts the bench world
// (Dovecot + users), then twostep with `[server] workers = 2` twice: node:cluster's round robin
// (the supervisor accepts and hands each connection on: NODE_CLUSTER_SCHED_POLICY=rr) and the
// kernel's choice (every worker accepts from the shared socket: =none, what serve uses). The two
// alternate, a fresh serve per round; each round measures plaintext passthrough logins/s with 16
// clients and with 1, and MiB/s of 4 clients each fetching a whole mailbox (400 x 64 KiB).
// docs/operations.md ("Workers") has the figures and the choice.
//
//   node bench/lib/cluster-scheduling.mjs [--rounds=4] [--seconds=6]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEnv } from './env.mjs';
import { ImapConn, quote } from './imap-client.mjs';
import { loginRate } from './login-rate.mjs';
import { median } from './stats.mjs';
import { message } from '../scenarios/imap-download.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.join('=')]; }));
const ROUNDS = Number(args.rounds ?? 4);
const SECONDS = Number(args.seconds ?? 6);
const MAILBOX = { user: 'sink', messages: 400, bytes: 64 * 1024 };

/** MiB/s of `clients` connections each fetching the whole mailbox at once. */
async function transfer(target, clients) {
  const t0 = performance.now();
  let bytes = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    const c = await ImapConn.open({ port: target.port });
    try {
      if ((await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`)).status !== 'OK') throw new Error('LOGIN refused');
      await c.command('EXAMINE INBOX');
      const r = await c.command('FETCH 1:* BODY.PEEK[]', 300_000);
      if (r.status !== 'OK') throw new Error(`FETCH: ${r.line}`);
      bytes += r.literalBytes;
    } finally {
      c.close();
    }
  }));
  return bytes / 1048576 / ((performance.now() - t0) / 1000);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-sched-'));
const cleanups = [];
try {
  const env = await startEnv({ root, log: (s) => console.error(s), onCleanup: (fn) => cleanups.push(fn) });
  for (let i = 0; i < MAILBOX.messages; i++) env.dovecot.deliver(MAILBOX.user, message(MAILBOX.bytes, `sched ${i}`));
  const results = { rr: { l16: [], l1: [], fetch: [] }, none: { l16: [], l1: [], fetch: [] } };
  console.error(`load at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let r = 0; r < ROUNDS; r++) {
    for (const policy of r % 2 ? ['none', 'rr'] : ['rr', 'none']) {
      const ts = await env.startTwostep({ name: `sched-${policy}-${r}`, workers: 2, env: { NODE_CLUSTER_SCHED_POLICY: policy } });
      const res = results[policy];
      res.l16.push(await loginRate(env.target.twostep('plain', ts), 16, SECONDS));
      res.l1.push(await loginRate(env.target.twostep('plain', ts), 1, SECONDS));
      res.fetch.push(await transfer(env.target.twostep(MAILBOX.user, ts), 4));
      console.error(`${policy} round ${r}: ${res.l16.at(-1).toFixed(1)} logins/s (16), ${res.l1.at(-1).toFixed(1)} (1), ${res.fetch.at(-1).toFixed(1)} MiB/s; load ${os.loadavg()[0].toFixed(2)}`);
      await ts.stop();
    }
  }
  console.log('| median | kernel (none) | round robin (rr) |\n|---|---|---|');
  for (const [k, what] of [['l16', 'logins/s, 16 clients'], ['l1', 'logins/s, 1 client'], ['fetch', 'MiB/s, 4 clients FETCH']]) {
    console.log(`| ${what} | ${median(results.none[k]).toFixed(1)} | ${median(results.rr[k]).toFixed(1)} |`);
  }
} finally {
  for (const fn of cleanups.reverse()) await fn();
  fs.rmSync(root, { recursive: true, force: true });
}
