// Store scale: app-code login latency against a database of 100 users vs one of 100,000 users
// and 1,000,000 application codes (--quick: 10,000 and 100,000); two twostep instances, sequential
// login rounds, alternated.
// The filler rows are inserted with SQL in one transaction: every code gets a random lookup HMAC
// and the same placeholder hash (a login finds its one row by the lookup index, so other rows'
// hashes are never read).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loginRound } from '../lib/imap-client.mjs';

const require = createRequire(import.meta.url);
const PLACEHOLDER_HASH = '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hiZW5jaGJlbmNo$YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNoYmU';

/** users-1 more accounts with two-step on, codesPerUser codes each (plus those of `tfa`). */
function fill(dbPath, users, codesPerUser) {
  const Database = require('better-sqlite3');
  const db = new Database(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    const now = Date.now();
    const acc = db.prepare("INSERT INTO accounts (username, admin_policy, twofa_state, created_at, updated_at) VALUES (?, 'allowed', 'on', ?, ?)");
    const code = db.prepare('INSERT INTO app_codes (account_id, name, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let u = 1; u < users; u++) {
        const id = acc.run(`filler${u}@bench.example`, now, now).lastInsertRowid;
        const lookups = randomBytes(32 * codesPerUser).toString('hex');
        for (let k = 0; k < codesPerUser; k++) code.run(id, `app ${k}`, lookups.slice(k * 64, k * 64 + 64), PLACEHOLDER_HASH, now);
      }
    })();
    return {
      accounts: db.prepare('SELECT count(*) AS n FROM accounts').get().n,
      codes: db.prepare('SELECT count(*) AS n FROM app_codes').get().n,
    };
  } finally {
    db.close();
  }
}

/** Mean ms of `n` sequential login rounds (one sample). */
async function latency(target, n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += await loginRound(target, target.user, target.password);
  return total / n;
}

export default {
  id: 'store-scale',
  title: 'Store scale',
  async run({ env, rec, quick, log }) {
    const P = { rounds: quick ? 5 : 15, perSample: quick ? 10 : 20, perSampleArgon: quick ? 3 : 6 };
    // --quick: a tenth of the large store (inserting 1,000,000 codes alone takes 15-45 s here).
    const sizes = [
      { side: '100 users', users: 100, codesPerUser: 10 },
      quick ? { side: '10k users, 100k codes', users: 10_000, codesPerUser: 10 } : { side: '100k users, 1M codes', users: 100_000, codesPerUser: 10 },
    ];
    const inst = {};
    for (const s of sizes) {
      const storeDir = path.join(env.root, `store-${s.users}`);
      const code = await env.enrol(storeDir);
      const t0 = performance.now();
      const n = fill(path.join(storeDir, 'twostep.db'), s.users, s.codesPerUser);
      log(`   ${s.side}: ${n.accounts} accounts, ${n.codes} codes inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const cached = await env.startTwostep({ name: `twostep-store-${s.users}`, storeDir });
      const argon = await env.startTwostep({ name: `twostep-store-${s.users}-nocache`, storeDir, loginCacheSeconds: 0 });
      inst[s.side] = { cached: { ...env.target.twostep('tfa', cached), password: code }, argon: { ...env.target.twostep('tfa', argon), password: code } };
    }
    const [, large] = sizes.map((s) => s.side);
    const within = { text: 'large <= 1.2 x small', met: (_m, r) => r[large] <= 1.2 };
    await rec.measure({
      scenario: 'store-scale',
      measurement: 'app-code login round, repeated (cache hit + indexed check)',
      unit: 'ms',
      better: 'lower',
      sides: sizes.map((s) => ({ side: s.side, sample: () => latency(inst[s.side].cached, P.perSample) })),
      rounds: P.rounds,
      targets: [within],
    });
    await rec.measure({
      scenario: 'store-scale',
      measurement: 'app-code login round, first use (lookup + argon2)',
      unit: 'ms',
      better: 'lower',
      sides: sizes.map((s) => ({ side: s.side, sample: () => latency(inst[s.side].argon, P.perSampleArgon) })),
      rounds: P.rounds,
      targets: [within],
    });
  },
};
