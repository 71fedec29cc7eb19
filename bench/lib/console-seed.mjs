// An organisation for the admin console's tests and bench: users across domains in every rollout
// state, and audit events over past days, written through the store's own interface (a Store as
// openStore returns it, from src/ in tests or dist/ in the bench) in batched transactions: 100,000
// users in seconds, not a CLI call each. Nothing here is reachable from the product: it is the
// same interface every caller has, used in bulk. Deterministic: the same spec gives the same rows,
// and what was written is returned, counted here (not read back through the product's queries).

const DAY = 86_400_000;
/** Transactions stay well under limits.storeTransactionMs even on a loaded machine. */
const USER_BATCH = 2_000;
const EVENT_BATCH = 5_000;
const STATES = ['off', 'allowed', 'required', 'on'];

/**
 * Users `user000000@<domain>` ... of each domain; state i of a domain is STATES by `mix` (weights
 * per state, e.g. { off: 1, allowed: 2, required: 3, on: 4 } = 10 %, 20 %, 30 %, 40 %). With
 * `policy` the domain gets that policy, and every `followEvery`-th user follows it instead of a
 * setting of their own (its state then comes from the domain's policy, or 'on').
 * @param {import('../../src/store/store.js').Store} store
 * @param {{ now: number, domains: { domain: string, users: number, mix: Record<string, number>, policy?: string, followEvery?: number }[] }} spec
 * @returns {Promise<{ users: string[], states: Map<string, string>, counts: Record<string, Record<string, number>> }>}
 *   the names (in the order made), each one's state, and the count per domain and state
 */
export async function seedUsers(store, spec) {
  const rows = [];
  for (const d of spec.domains) {
    const total = Object.values(d.mix).reduce((a, b) => a + b, 0);
    for (let i = 0; i < d.users; i++) {
      // The state whose share of the cycle holds i (a fixed interleaving: every page has a mix).
      let k = i % total;
      let state = STATES.find((s) => (k -= d.mix[s] ?? 0) < 0);
      const follows = d.policy !== undefined && d.followEvery !== undefined && i % d.followEvery === 0;
      if (follows) state = d.policy === 'disallowed' ? 'off' : state === 'on' ? 'on' : d.policy;
      rows.push({ username: `user${String(i).padStart(6, '0')}@${d.domain}`, state, follows, domainPolicy: d.policy });
    }
  }
  const now = spec.now;
  for (const d of spec.domains) if (d.policy !== undefined) await store.domains.set(d.domain, d.policy, now);
  const policyOf = { off: 'disallowed', allowed: 'allowed', required: 'required', on: 'required' };
  for (let b = 0; b < rows.length; b += USER_BATCH) {
    await store.transaction(async (tx) => {
      for (const r of rows.slice(b, b + USER_BATCH)) {
        const policy = r.follows ? r.domainPolicy : policyOf[r.state];
        const a = await tx.accounts.create(r.username, policy, now);
        if (r.follows) await tx.accounts.setPolicy(a.id, policy, false, now);
        if (r.state === 'on') {
          // A placeholder key: these users never sign in, the console only counts and lists them.
          await tx.accounts.setTotpPending(a.id, Buffer.alloc(32, 1), now);
          await tx.accounts.setTwofaOn(a.id, 1, now);
        }
      }
    });
  }
  const counts = {};
  for (const r of rows) {
    const d = r.username.slice(r.username.indexOf('@') + 1);
    counts[d] ??= { off: 0, allowed: 0, required: 0, on: 0 };
    counts[d][r.state]++;
  }
  return { users: rows.map((r) => r.username), states: new Map(rows.map((r) => [r.username, r.state])), counts };
}

/**
 * The kinds of event, with what the overview's chart counts each as, and their weight at `f` (0 at
 * the start of the seeded days, 1 at the end) and UTC day number: a rollout under way. Application
 * codes replace main passwords, enrolments and refused main passwords peak mid-way (apps not yet
 * switched), lockouts jump one day a week.
 */
const KINDS = [
  { event: 'login.ok', protocol: 'imap', detail: { via: 'app-code', codeName: 'Phone' }, series: 'app:imap', w: (f) => 0.1 + 0.9 * f },
  { event: 'login.ok', protocol: 'smtp', detail: { via: 'app-code', codeName: 'Laptop' }, series: 'app:smtp', w: (f) => 0.05 + 0.45 * f },
  { event: 'login.ok', protocol: 'pop3', detail: { via: 'app-code', codeName: 'Tablet' }, series: 'app:pop3', w: (f) => 0.02 + 0.15 * f },
  { event: 'login.ok', protocol: 'imap', detail: { via: 'passthrough' }, series: null, w: (f) => 1.3 - f },
  { event: 'login.fail', protocol: 'pop3', detail: { reason: 'invalid-credentials', via: 'passthrough' }, series: null, w: () => 0.15 },
  { event: 'login.fail', protocol: 'imap', detail: { reason: 'app-code-required', why: 'not-an-app-code' }, series: 'refused', w: (f) => 0.04 + f * (1 - f) },
  { event: 'totp.confirm', protocol: 'portal', detail: {}, series: 'enrol', w: (f) => 0.02 + 0.5 * f * (1 - f) },
  { event: 'login.throttled', protocol: 'imap', detail: { bound: 'ip', retryAfterMs: 60_000 }, series: 'lockout', w: (_f, day) => (day % 7 === 3 ? 0.06 : 0.01) },
  { event: '2fa.ok', protocol: 'portal', detail: { method: 'totp' }, series: null, w: (f) => 0.1 + 0.3 * f },
];

/** The kind of event i: a fixed pseudo-random draw (the same every run) by the weights at its time. */
function kindOf(i, f, day) {
  const u = (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32;
  const weights = KINDS.map((k) => k.w(f, day));
  let x = u * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < KINDS.length; k++) if ((x -= weights[k]) < 0) return KINDS[k];
  return KINDS[KINDS.length - 1];
}

const ADMIN_ACTION = { event: 'admin.action', protocol: 'portal', detail: { admin: 'root', action: 'set-policy', policy: 'required' }, series: null };

/**
 * `count` audit events spread evenly over the `days` days before `now`, of the users given (in
 * turn) and from 10.x.y.z addresses; every 997th an admin action. Returns, per UTC day
 * (YYYY-MM-DD), what the overview's chart should show, and (keep) every event written.
 * @param {import('../../src/store/store.js').Store} store
 * @param {{ now: number, days: number, count: number, users: string[], keep?: boolean }} spec
 */
export async function seedAuditEvents(store, spec) {
  const perDay = {};
  const kept = [];
  const start = spec.now - spec.days * DAY;
  const step = (spec.days * DAY) / spec.count;
  for (let b = 0; b < spec.count; b += EVENT_BATCH) {
    await store.transaction(async (tx) => {
      for (let i = b; i < Math.min(b + EVENT_BATCH, spec.count); i++) {
        const at = Math.floor(start + i * step);
        const user = spec.users[i % spec.users.length];
        const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        const admin = i % 997 === 996;
        const k = admin ? ADMIN_ACTION : kindOf(i, i / spec.count, Math.floor(at / DAY));
        const e = { at, username: user, event: k.event, protocol: k.protocol, ip: admin ? '192.0.2.1' : ip, detail: { ...k.detail, cid: `c${i}` } };
        await tx.audit.insert(e);
        if (spec.keep) kept.push(e);
        if (k.series === null) continue;
        const date = new Date(at).toISOString().slice(0, 10);
        const day = (perDay[date] ??= { enrolments: 0, appCodeLogins: {}, refusedMainPassword: 0, lockouts: 0 });
        if (k.series === 'enrol') day.enrolments++;
        else if (k.series === 'refused') day.refusedMainPassword++;
        else if (k.series === 'lockout') day.lockouts++;
        else day.appCodeLogins[k.series.slice(4)] = (day.appCodeLogins[k.series.slice(4)] ?? 0) + 1;
      }
    });
  }
  return { perDay, events: kept };
}
