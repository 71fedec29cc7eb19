// Logins: connect + greeting + LOGIN + LOGOUT per second, with 1 and with 16 concurrent clients.
// Sides: Dovecot directly, nginx's mail proxy, twostep passing the user's own password through,
// twostep with an application code the client used before (served by the verified-credential
// cache), and twostep with an application code on first use (an instance with the cache off, so
// every login runs one argon2 verification).
import { createRequire } from 'node:module';
import { loginRate as rate } from '../lib/login-rate.mjs';
import { median } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);

/**
 * In this process, on a fresh database: median ms of one argon2id verification (twostep's
 * parameters) and of a whole first-use decision (Policy.authenticate with the cache off: account,
 * lookup, argon2, checks, audit), alternated. Their difference is what a first use costs beyond
 * the one verification, without the network and Dovecot noise of a login round.
 */
async function firstUseInProcess(rounds) {
  const argon2 = require('argon2');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { configSchema } = await import('../../dist/config/schema.js');
  const { silentLogger } = await import('../../dist/core/logger.js');
  const { Secret } = await import('../../dist/core/secret.js');
  const { totpCode } = await import('../../dist/crypto/index.js');
  const { Policy } = await import('../../dist/policy/index.js');
  const { openStore } = await import('../../dist/store/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'bench-policy-'));
  const store = await openStore(join(dir, 'twostep.db'));
  try {
    const config = configSchema.parse({
      backend: { master_user: 'm', master_password: 'unused' },
      auth: { allow_plaintext: true, failure_delay_ms: 0, login_cache_seconds: 0 },
    });
    const policy = new Policy({ store, masterKey: Buffer.alloc(32, 7), config, logger: silentLogger() });
    await policy.setAdminPolicy('alice', 'allowed');
    const { key } = await policy.totpEnroll('alice');
    await policy.totpConfirm('alice', totpCode(key, Date.now()));
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const alice = await store.accounts.findByUsername('alice');
    const [{ hash }] = await store.appCodes.listActive(alice.id);
    const req = () => ({ protocol: 'imap', mechanism: 'LOGIN', user: 'alice', secret: new Secret(code), clientIp: '127.0.0.1', clientPort: 1, tls: true, cid: 'bench' });
    const verifyMs = [];
    const decideMs = [];
    const timeVerify = async () => {
      const t0 = performance.now();
      if (!(await argon2.verify(hash, code))) throw new Error('argon2 verify failed');
      return performance.now() - t0;
    };
    const timeDecide = async () => {
      const t0 = performance.now();
      const d = await policy.authenticate(req());
      if (!d.ok) throw new Error('first-use login refused');
      return performance.now() - t0;
    };
    for (let i = 0; i < rounds + 2; i++) {
      // Alternate which goes first, so neither always meets the warmer thread or allocator.
      let v;
      let a;
      if (i % 2) {
        a = await timeDecide();
        v = await timeVerify();
      } else {
        v = await timeVerify();
        a = await timeDecide();
      }
      if (i >= 2) verifyMs.push(v), decideMs.push(a);
    }
    await policy.flush();
    return { verify: median(verifyMs), decide: median(decideMs) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default {
  id: 'logins',
  title: 'Logins per second',
  async run({ env, rec, quick, twostepWorkers = [] }) {
    const P = { seconds: quick ? 0.5 : 3, rounds: quick ? 3 : 5, settleMs: quick ? 150 : 300 };
    const noCache = await env.startTwostep({ name: 'twostep-nocache', loginCacheSeconds: 0 });
    const t = env.target;
    const targets = [
      ['direct', t.direct('plain')],
      ...(env.nginx ? [['nginx', t.nginx('plain')]] : []),
      ['twostep passthrough', t.twostep('plain')],
      ['twostep app code, repeated', t.twostep('tfa')],
      ['twostep app code, first use', t.twostep('tfa', noCache)],
    ];
    // --twostep-workers=1,2: the repeated app-code side again with `[server] workers = N` (issue 14).
    for (const workers of twostepWorkers) {
      try {
        const ts = await env.startTwostep({ name: `twostep-logins-workers-${workers}`, workers });
        targets.push([`twostep app code, repeated, workers=${workers}`, t.twostep('tfa', ts)]);
      } catch (err) {
        rec.note('logins', `twostep with [server] workers = ${workers} did not start, side left out: ${String(err?.message ?? err).split('\n')[0]}`);
      }
    }
    const two = 'twostep app code, repeated, workers=2';
    const medians = {};
    for (const clients of [1, 16]) {
      medians[clients] = await rec.measure({
        scenario: 'logins',
        measurement: `login+logout/s, ${clients} client${clients > 1 ? 's' : ''}`,
        unit: 'logins/s',
        better: 'higher',
        sides: targets.map(([side, target]) => ({ side, sample: () => rate(target, clients, P.seconds) })),
        rounds: P.rounds,
        warmup: quick ? 0 : 1, // the download scenario before has warmed every process already
        settleMs: P.settleMs, // Dovecot's imap processes of the previous side exit meanwhile
        targets: [
          { text: 'app code repeated >= 0.9 x direct', met: (_m, r) => r['twostep app code, repeated'] >= 0.9 },
          ...(targets.some(([side]) => side === two) ? [{ text: 'app code repeated, workers = 2, >= 0.9 x direct', met: (_m, r) => r[two] >= 0.9 }] : []),
          ...(env.nginx ? [{ text: 'twostep passthrough >= nginx', met: (m) => m['twostep passthrough'] >= m.nginx }] : []),
        ],
      });
    }
    // First use vs repeated: end to end (one client, includes Dovecot and the network), and the
    // policy decision alone in this process (the target: one argon2 verification + at most 2 ms).
    const first = 1000 / medians[1]['twostep app code, first use'];
    const repeated = 1000 / medians[1]['twostep app code, repeated'];
    const inProc = await firstUseInProcess(quick ? 10 : 30);
    const extra = inProc.decide - inProc.verify;
    rec.record({
      scenario: 'logins',
      measurement: 'first-use decision beyond its one argon2 verification (in process)',
      side: 'twostep',
      value: extra,
      unit: 'ms',
      better: 'lower',
      targets: [{ text: 'first use = one argon2 verification + at most 2 ms', met: () => extra <= 2 }],
    });
    rec.note(
      'logins',
      `first-use decision ${inProc.decide.toFixed(2)} ms vs one argon2id verification (m=19 MiB, t=2) ${inProc.verify.toFixed(2)} ms, in process; ` +
        `end to end, one client: first use ${first.toFixed(1)} ms, repeated ${repeated.toFixed(1)} ms per login round`,
    );
  },
};
