// Admin console at scale (issue 17): how long each console page takes to answer with 100,000
// users and 1,000,000 audit events, measured as a browser would meet it (HTTP GET over loopback,
// a signed-in admin, the whole page read), against a `twostep serve` of its own. The organisation
// is seeded through the store (bench/lib/console-seed.mjs: batched transactions, as the e2e test
// does); the admin signs in over HTTP and proves the new key with a second code. Target: every
// page under 200 ms.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../../scripts/demo-backend.mjs';
import { seedAuditEvents, seedUsers } from '../lib/console-seed.mjs';
import { startTwostepChild, twostepConfig } from '../lib/twostep.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DAY = 86_400_000;
const PASSWORD = 'bench admin console password';
const DOMAINS = [
  { domain: 'corp.example', users: 60_000, mix: { off: 1, allowed: 2, required: 3, on: 4 }, policy: 'required', followEvery: 5 },
  { domain: 'sales.example', users: 30_000, mix: { allowed: 1, required: 1, on: 2 }, policy: 'allowed', followEvery: 3 },
  { domain: 'lab.example', users: 10_000, mix: { off: 3, allowed: 1, on: 1 } },
];

/** A cookie jar and form posts: the admin's browser. */
function browser(base) {
  const jar = new Map();
  const take = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const headers = () => ({ cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') });
  return {
    async get(p) {
      const res = await fetch(base + p, { headers: headers(), redirect: 'manual' });
      take(res);
      return { status: res.status, location: res.headers.get('location'), body: await res.text() };
    },
    async post(p, fields) {
      const res = await fetch(base + p, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      });
      take(res);
      return { status: res.status, location: res.headers.get('location'), body: await res.text() };
    },
  };
}

const csrfOf = (html) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export default {
  id: 'admin-console',
  title: 'Admin console at 100,000 users and 1,000,000 audit events',
  async run({ env, rec, quick, log }) {
    const dist = (f) => import(pathToFileURL(path.join(repo, 'dist', f)).href);
    const { openStore } = await dist('store/index.js');
    const { parseConfig } = await dist('config/load-config.js');
    const { silentLogger } = await dist('core/logger.js');
    const { openPolicy } = await dist('main.js');
    const { Secret } = await dist('core/secret.js');
    const { authenticator } = await import('otplib');
    const eventCount = quick ? 200_000 : 1_000_000;

    const dir = path.join(env.root, 'admin-console');
    fs.mkdirSync(dir, { recursive: true });
    const [port, tlsPort, portalPort] = [await freePort(), await freePort(), await freePort()];
    const configText = `${twostepConfig({
      storePath: path.join(dir, 'twostep.db'), cert: env.cert.cert, key: env.cert.key, masterPasswordFile: env.masterPasswordFile,
      port, tlsPort, backendPort: env.dovecot.imapPort, logLevel: 'warn',
      // One process, as every other twostep side: with workers the portal (worker 1) may listen
      // after the IMAP port this bench waits for answers (worker 2).
      workers: 1,
    })}[portal]\nlisten = "127.0.0.1:${portalPort}"\n`;
    const configPath = path.join(dir, 'twostep.toml');
    fs.writeFileSync(configPath, configText);

    // The organisation, through the store's interface in batched transactions.
    const now = Date.now();
    const store = await openStore(path.join(dir, 'twostep.db'));
    let t = performance.now();
    const seeded = await seedUsers(store, { now, domains: DOMAINS });
    log(`   100,000 users seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await seedAuditEvents(store, { now, days: 60, count: eventCount, users: seeded.users });
    log(`   ${eventCount.toLocaleString('en-US')} audit events seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await store.close();
    const opened = await openPolicy(parseConfig(configText, configPath), silentLogger());
    let key;
    try {
      ({ key } = await opened.policy.admins.add('bench', new Secret(PASSWORD)));
    } finally {
      await opened.close();
    }

    const child = await startTwostepChild({ configPath, port, logFile: path.join(dir, 'serve.log') });
    env.onCleanup(() => child.stop());
    const b = browser(`http://127.0.0.1:${portalPort}`);
    // Sign in (this step's code), then prove the new key with the next step's (accepted one step early).
    const signIn = await b.get('/admin/sign-in');
    const r1 = await b.post('/admin/sign-in', { csrf: csrfOf(signIn.body), name: 'bench', password: PASSWORD, code: authenticator.generate(key) });
    if (r1.location !== '/admin/confirm') throw new Error(`admin sign-in: ${r1.status} ${r1.location}`);
    const confirm = await b.get('/admin/confirm');
    const next = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(key);
    const r2 = await b.post('/admin/confirm', { csrf: csrfOf(confirm.body), code: next });
    if (r2.location !== '/admin') throw new Error(`admin confirm: ${r2.status} ${r2.location} ${r2.body.slice(0, 200)}`);

    // Event i of the seed has id i + 1 (a fresh database) and this time: a cursor deep in the log.
    const step = (60 * DAY) / eventCount;
    const mid = Math.floor(eventCount / 2);
    const cursor = `${Math.floor(now - 60 * DAY + mid * step)}.${mid + 1}`;
    const day = (d) => new Date(now - d * DAY).toISOString().slice(0, 16);
    const pages = [
      ['overview (counts, 30-day chart, to chase)', '/admin'],
      ['users: first page', '/admin/users'],
      ['users: search, 1 of 100,000', '/admin/users?q=user054321%40corp'],
      ['users: search, no match (every name read)', '/admin/users?q=nobody-at-all'],
      ['users: required in a domain, deep page', '/admin/users?state=required&domain=corp.example&after=user050000%40corp.example'],
      ['users: two-step on, previous page', '/admin/users?state=on&before=user050000%40sales.example'],
      ['audit: first page', '/admin/audit'],
      [`audit: page at event ${mid.toLocaleString('en-US')}`, `/admin/audit?after=${cursor}`],
      ['audit: one user', '/admin/audit?user=user012345%40corp.example'],
      ['audit: event prefix "login"', '/admin/audit?event=login'],
      ['audit: rare event (admin.action)', '/admin/audit?event=admin.action'],
      ['audit: one address', '/admin/audit?ip=10.1.2.3'],
      ['audit: pop3, one day', `/admin/audit?protocol=pop3&since=${day(20)}&until=${day(19)}`],
      // A worst case: a common event and a protocol it never has (every 2fa.ok is read to find none).
      ['audit: 2fa.ok over pop3 (none)', '/admin/audit?event=2fa.ok&protocol=pop3'],
    ];
    for (const [, p] of pages) {
      const r = await b.get(p);
      if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.location ?? ''}`);
    }
    const under = { text: 'every page < 200 ms', met: (m) => Object.values(m).every((v) => v < 200) };
    await rec.measure({
      scenario: 'admin-console',
      measurement: `console page answer, 100k users / ${quick ? '200k' : '1M'} events`,
      unit: 'ms',
      better: 'lower',
      sides: pages.map(([side, p]) => ({
        side,
        sample: async () => {
          const t0 = performance.now();
          const r = await b.get(p);
          if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
          return performance.now() - t0;
        },
      })),
      rounds: quick ? 5 : 15,
      targets: [under],
    });
    // One day of events as CSV, streamed (not a page: its size grows with the day's events).
    t = performance.now();
    const csv = await b.get(`/admin/audit/export.csv?since=${day(20)}&until=${day(19)}`);
    const lines = csv.body.split('\r\n').length - 2;
    rec.record({ scenario: 'admin-console', measurement: `CSV export of one day (${lines.toLocaleString('en-US')} events)`, side: 'twostep', value: performance.now() - t, unit: 'ms', better: 'lower' });
  },
};
