// Idle connections: RSS of a fresh twostep `serve` holding N authenticated IMAP IDLE sessions over
// implicit TLS (application-code logins; each session also holds a plaintext socket to Dovecot).
// Twice: with Node's defaults, and with the NODE_OPTIONS of the shipped systemd unit.
// Per connection = (RSS loaded - RSS warm) / N, where "warm" is after the same number of
// concurrent logins, all closed, so argon2's working memory and JIT warm-up are not counted.
import fs from 'node:fs';
import { openIdle as openSessions } from '../lib/idle-memory.mjs';
import { loginRound } from '../lib/imap-client.mjs';
import { sleep } from '../lib/proc.mjs';
import { median } from '../lib/stats.mjs';

const OPEN_CONCURRENCY = 16;

async function steadyRss(readRss) {
  await sleep(1500);
  const v = [];
  for (let i = 0; i < 5; i++) {
    v.push(readRss());
    await sleep(200);
  }
  return median(v);
}

const openIdle = (target, count) => openSessions(target, count, { concurrency: OPEN_CONCURRENCY });

/** NODE_OPTIONS of the shipped systemd unit (config/systemd/twostep.service): serve as the service runs it. */
function unitNodeOptions() {
  const unit = fs.readFileSync(new URL('../../config/systemd/twostep.service', import.meta.url), 'utf8');
  return /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit)?.[1] ?? '';
}

export default {
  id: 'idle-connections',
  title: 'Idle connections',
  async run({ env, rec, quick, log }) {
    const nodeOptions = unitNodeOptions();
    // Node's defaults, then the environment of the shipped systemd unit (V8's young generation capped).
    await idleRss({ env, rec, quick, log, side: 'twostep', nodeEnv: { NODE_OPTIONS: '' } });
    await idleRss({ env, rec, quick, log, side: `twostep, systemd unit's NODE_OPTIONS=${nodeOptions}`, nodeEnv: { NODE_OPTIONS: nodeOptions } });
  },
};

async function idleRss({ env, rec, quick, log, side, nodeEnv }) {
  const count = quick ? 300 : 1000;
  const ts = await env.startTwostep({ name: `twostep-idle-${nodeEnv.NODE_OPTIONS ? 'unit' : 'default'}`, env: nodeEnv });
  const target = env.target.twostepTls('tfa', ts);
  try {
    const fresh = await steadyRss(ts.rss);
    await Promise.all(
      Array.from({ length: OPEN_CONCURRENCY }, async () => {
        for (let i = 0; i < 4; i++) await loginRound(target, target.user, target.password);
      }),
    );
    const warm = await steadyRss(ts.rss);
    log(`   ${side}: opening ${count} IDLE sessions over TLS (${OPEN_CONCURRENCY} at a time)`);
    const t0 = performance.now();
    const half = Math.floor(count / 2);
    const conns = await openIdle(target, half);
    let loaded;
    let halfway;
    try {
      halfway = await steadyRss(ts.rss);
      conns.push(...(await openIdle(target, count - half)));
      loaded = await steadyRss(ts.rss);
      const alive = conns.filter((c) => !c.closed).length;
      if (alive !== count) throw new Error(`only ${alive}/${count} sessions still open`);
    } finally {
      for (const c of conns) c.close();
    }
    const openS = (performance.now() - t0) / 1000;
    // Average over the warm process (includes one-time growth: V8's young generation, malloc
    // arenas) and marginal (the second half only: what one more connection costs).
    const average = (loaded - warm) / count;
    const marginal = (loaded - halfway) / (count - half);
    for (const [what, value] of [
      [`RSS per IDLE TLS connection, average over ${count}`, average],
      [`RSS per IDLE TLS connection, marginal (${half} -> ${count})`, marginal],
    ]) {
      rec.record({
        scenario: 'idle-connections',
        measurement: what,
        side,
        value,
        unit: 'KiB',
        better: 'lower',
        targets: [{ text: '<= 40 KiB per TLS connection', met: () => value <= 40 }],
      });
    }
    rec.note(
      'idle-connections',
      `${side} RSS: fresh ${fresh} KiB, warm ${warm} KiB, ${half} sessions ${halfway} KiB, ${count} sessions ${loaded} KiB; opened in ${openS.toFixed(1)} s`,
    );
  } finally {
    await ts.stop();
  }
}
