// Idle connections: RSS of a fresh twostep `serve` holding N authenticated IMAP IDLE sessions over
// implicit TLS (application-code logins; each session also holds a plaintext socket to Dovecot).
// Per connection = (RSS loaded - RSS warm) / N, where "warm" is after the same number of
// concurrent logins, all closed, so argon2's working memory and JIT warm-up are not counted.
import { ImapConn, loginRound, quote } from '../lib/imap-client.mjs';
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

async function openIdle(target, count) {
  const conns = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const c = await ImapConn.open(target);
      conns.push(c);
      const r = await c.command(`LOGIN ${quote(target.user)} ${quote(target.password)}`);
      if (r.status !== 'OK') throw new Error(`LOGIN: ${r.line}`);
      const s = await c.command('SELECT INBOX');
      if (s.status !== 'OK') throw new Error(`SELECT: ${s.line}`);
      await c.idle();
    }
  };
  try {
    await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
  } catch (err) {
    for (const c of conns) c.close();
    throw err;
  }
  return conns;
}

export default {
  id: 'idle-connections',
  title: 'Idle connections',
  async run({ env, rec, quick, log }) {
    const count = quick ? 300 : 1000;
    const ts = await env.startTwostep({ name: 'twostep-idle' });
    const target = env.target.twostepTls('tfa', ts);
    try {
      const fresh = await steadyRss(ts.rss);
      await Promise.all(
        Array.from({ length: OPEN_CONCURRENCY }, async () => {
          for (let i = 0; i < 4; i++) await loginRound(target, target.user, target.password);
        }),
      );
      const warm = await steadyRss(ts.rss);
      log(`   opening ${count} IDLE sessions over TLS (${OPEN_CONCURRENCY} at a time)`);
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
          side: 'twostep',
          value,
          unit: 'KiB',
          better: 'lower',
          targets: [{ text: '<= 40 KiB per TLS connection', met: () => value <= 40 }],
        });
      }
      rec.note(
        'idle-connections',
        `twostep RSS: fresh ${fresh} KiB, warm ${warm} KiB, ${half} sessions ${halfway} KiB, ${count} sessions ${loaded} KiB; opened in ${openS.toFixed(1)} s`,
      );
    } finally {
      await ts.stop();
    }
  },
};
