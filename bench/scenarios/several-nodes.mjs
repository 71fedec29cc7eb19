// Several nodes: application-code logins with the store on PostgreSQL vs SQLite (repeated: the
// verified-credential cache, one indexed query per login; first use: one argon2 verification),
// and two nodes on one PostgreSQL behind HAProxy vs one node behind the same HAProxy.
// PostgreSQL is a private one (test/helpers/postgres-core.mjs) on loopback, fsync off as for the
// tests (commits still reach its WAL); SQLite runs with its usual synchronous = NORMAL.
import path from 'node:path';
import { startHaproxy } from '../../test/helpers/haproxy.mjs';
import { startPostgres } from '../../test/helpers/postgres-core.mjs';
import { loginRate as rate } from '../lib/login-rate.mjs';

export default {
  id: 'several-nodes',
  title: 'PostgreSQL store vs SQLite; two nodes vs one',
  async run({ env, rec, quick, log }) {
    const P = { seconds: quick ? 1 : 3, rounds: quick ? 3 : 5, settleMs: 300 };
    log('starting PostgreSQL');
    const pgd = await startPostgres();
    env.onCleanup(() => pgd.stop());
    const storeDir = path.join(env.root, 'pg-store');
    const store = { url: await pgd.createDatabase('bench'), secretKeyFile: path.join(storeDir, 'secret.key') };
    const pgCode = await env.enrol(storeDir, store);
    const pgA = await env.startTwostep({ name: 'twostep-pg-a', store });
    const pgB = await env.startTwostep({ name: 'twostep-pg-b', store });
    const pgNoCache = await env.startTwostep({ name: 'twostep-pg-nocache', store, loginCacheSeconds: 0 });
    const liteNoCache = await env.startTwostep({ name: 'twostep-sqlite-nocache', loginCacheSeconds: 0 });
    const pgTarget = (ts) => ({ port: ts.port, user: 'tfa', password: pgCode });
    const t = env.target;
    for (const [what, sides] of [
      ['repeated', [['SQLite', t.twostep('tfa')], ['PostgreSQL', pgTarget(pgA)]]],
      ['first use', [['SQLite', t.twostep('tfa', liteNoCache)], ['PostgreSQL', pgTarget(pgNoCache)]]],
    ]) {
      for (const clients of [1, 16]) {
        await rec.measure({
          scenario: 'several-nodes',
          measurement: `app code ${what}, login+logout/s, ${clients} client${clients > 1 ? 's' : ''}`,
          unit: 'logins/s',
          better: 'higher',
          sides: sides.map(([side, target]) => ({ side, sample: () => rate(target, clients, P.seconds) })),
          rounds: P.rounds,
          warmup: quick ? 0 : 1,
          settleMs: P.settleMs,
          targets: [{ text: 'PostgreSQL >= 0.8 x SQLite', met: (_m, r) => r.PostgreSQL >= 0.8 }],
        });
      }
    }
    // The same HAProxy (plain TCP) in front of one node, and of two on the same database.
    const proxy = await startHaproxy({ services: [{ name: 'one', servers: [pgA.port] }, { name: 'two', servers: [pgA.port, pgB.port] }], proxy: false });
    env.onCleanup(() => proxy.stop());
    await rec.measure({
      scenario: 'several-nodes',
      measurement: 'app code repeated through HAProxy, login+logout/s, 32 clients',
      unit: 'logins/s',
      better: 'higher',
      sides: [
        { side: 'one node', sample: () => rate({ port: proxy.ports.one, user: 'tfa', password: pgCode }, 32, P.seconds) },
        { side: 'two nodes', sample: () => rate({ port: proxy.ports.two, user: 'tfa', password: pgCode }, 32, P.seconds) },
      ],
      rounds: P.rounds,
      warmup: quick ? 0 : 1,
      settleMs: P.settleMs,
      targets: [{ text: 'two nodes >= 1.6 x one (needs spare cores: not on 2)', met: (_m, r) => r['two nodes'] >= 1.6 }],
    });
    rec.note(
      'several-nodes',
      'two nodes vs one: on this machine the bench client, HAProxy, Dovecot, PostgreSQL and both nodes share the same cores, ' +
        'so a second node adds no CPU to share the work; the figure shows what a second node costs or gains here, not what it scales to.',
    );
  },
};
