// Every door: logins straight at a Dovecot whose Lua passdb asks twostep (config/dovecot as
// shipped, twostep's verify service on a unix socket), against the plain Dovecot of the other
// scenarios. Sides, 1 and 16 clients: plain Dovecot logins; the guarded Dovecot with an account
// without two-step (twostep answers "not mine", Dovecot's passwd-file judges); the guarded
// Dovecot with an application code used before (served by twostep's verified-credential cache).
// Then a mailbox download after an application-code login at the guarded Dovecot vs the plain
// one: the data path has no extra hop, only the login does.
import path from 'node:path';
import { startDemoDovecot } from '../../scripts/demo-backend.mjs';
import { loginRound } from '../lib/imap-client.mjs';
import { treeCpuMs } from '../lib/proc.mjs';
import { fetchSide, message } from './imap-download.mjs';
import { loginRate as rate } from '../lib/login-rate.mjs';

const KiB = 1024;

/** CPU ms per login of each process tree in `pids` while `clients` clients log in for `seconds`. */
async function cpuPerLogin(target, clients, seconds, pids) {
  const before = pids.map(treeCpuMs);
  let logins = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await loginRound(target, target.user, target.password);
      logins++;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return pids.map((p, i) => (treeCpuMs(p) - before[i]) / logins);
}

export default {
  id: 'dovecot-passdb',
  title: "Logins at a Dovecot guarded by twostep's Lua passdb",
  async run({ env, rec, quick, log }) {
    const P = { seconds: quick ? 1 : 3, rounds: quick ? 3 : 5, settleMs: 300, messages: 2000, messageBytes: 16 * KiB, fetchRounds: quick ? 3 : 9 };
    const socket = path.join(env.root, 'verify', 'verify.sock');
    log("starting a Dovecot with twostep's Lua passdb, and twostep's verify service");
    const { USERS } = await import('../lib/env.mjs');
    const guarded = await startDemoDovecot({
      dir: path.join(env.root, 'dovecot-guarded'),
      users: Object.entries(USERS).map(([user, password]) => ({ user, password })),
      master: { user: 'proxymaster', password: 'unused-here' },
      twostepPassdb: { socket },
    });
    env.onCleanup(() => guarded.stop());
    const verify = await env.startTwostep({ name: 'twostep-verify', verifySocket: socket });

    const plain = { port: env.dovecot.imapPort, user: 'plain', password: USERS.plain };
    const sides = [
      ['plain Dovecot', plain],
      ['guarded, no two-step', { port: guarded.imapPort, user: 'plain', password: USERS.plain }],
      ['guarded, app code repeated', { port: guarded.imapPort, user: 'tfa', password: env.appCode }],
    ];
    for (const clients of [1, 16]) {
      await rec.measure({
        scenario: 'dovecot-passdb',
        measurement: `login+logout/s at Dovecot, ${clients} client${clients > 1 ? 's' : ''}`,
        unit: 'logins/s',
        better: 'higher',
        sides: sides.map(([side, target]) => ({ side, sample: () => rate(target, clients, P.seconds) })),
        rounds: P.rounds,
        warmup: 1,
        settleMs: P.settleMs,
        targets: [{ text: 'app code repeated >= 0.9 x plain Dovecot', met: (_m, r) => r['guarded, app code repeated'] >= 0.9 }],
      });
    }

    // Where a login's CPU goes (16 clients, all processes of each Dovecot and the verify child).
    const cpuSeconds = quick ? 2 : 5;
    const [plainDovecot] = await cpuPerLogin(plain, 16, cpuSeconds, [env.dovecot.pid]);
    const [guardedNext, verifyNext] = await cpuPerLogin(sides[1][1], 16, cpuSeconds, [guarded.pid, verify.pid]);
    const [guardedCode, verifyCode] = await cpuPerLogin(sides[2][1], 16, cpuSeconds, [guarded.pid, verify.pid]);
    const cpu = [
      ['plain Dovecot: Dovecot', plainDovecot],
      ['guarded, no two-step: Dovecot', guardedNext],
      ['guarded, no two-step: twostep', verifyNext],
      ['guarded, app code repeated: Dovecot', guardedCode],
      ['guarded, app code repeated: twostep', verifyCode],
    ];
    for (const [side, value] of cpu) {
      rec.record({ scenario: 'dovecot-passdb', measurement: 'CPU per login, 16 clients', side, value, unit: 'ms', better: 'lower' });
    }

    log(`filling tfa's mailbox on both Dovecots: ${P.messages} x ${P.messageBytes / KiB} KiB`);
    for (let i = 0; i < P.messages; i++) {
      const m = message(P.messageBytes, `bench ${i}`);
      env.dovecot.deliver('tfa', m);
      guarded.deliver('tfa', m);
    }
    const conns = new Map();
    try {
      const fetch = 'FETCH 1:* (BODY.PEEK[])';
      const bytes = P.messages * P.messageBytes;
      await rec.measure({
        scenario: 'dovecot-passdb',
        measurement: `FETCH 1:* BODY.PEEK[] of ${P.messages} x 16 KiB after the login`,
        unit: 'ms',
        better: 'lower',
        sides: [
          fetchSide('plain Dovecot, own password', { port: env.dovecot.imapPort, user: 'tfa', password: USERS.tfa }, fetch, bytes, conns),
          fetchSide('guarded Dovecot, app code', { port: guarded.imapPort, user: 'tfa', password: env.appCode }, fetch, bytes, conns),
        ],
        rounds: P.fetchRounds,
        targets: [{ text: 'download at the guarded Dovecot <= 1.05 x plain', met: (_m, r) => r['guarded Dovecot, app code'] <= 1.05 }],
      });
    } finally {
      for (const c of conns.values()) c.close();
    }
  },
};
