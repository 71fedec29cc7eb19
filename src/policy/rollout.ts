import { consoleLimits } from '../core/limits.js';
import { auditDay, type AuditDailyCount, type RolloutState } from '../store/console-store.js';
import type { AdminPolicy } from '../store/types.js';
import { rolloutState } from './effective-policy.js';
import type { PolicyContext } from './policy-context.js';

export type RolloutCounts = Record<RolloutState, number> & { total: number };

export interface DomainRollout extends RolloutCounts {
  /** '' for names without a domain. */
  domain: string;
  /** The domain's own policy, or null. */
  policy: AdminPolicy | null;
}

/** One UTC day of the chart. */
export interface RolloutDay {
  /** YYYY-MM-DD */
  date: string;
  /** Authenticators set up (TOTP confirmed). */
  enrolments: number;
  /** Logins with an application code, per protocol. */
  appCodeLogins: Record<string, number>;
  /** A two-step account's login refused because the secret was no application code (the main password). */
  refusedMainPassword: number;
  /** Guessing bounds that refused a source or an account (audited once per lockout). */
  lockouts: number;
}

export interface RolloutOverview {
  overall: RolloutCounts;
  /** Largest first, at most consoleLimits.overviewDomains. */
  domains: DomainRollout[];
  /** Domains left out of `domains`. */
  moreDomains: number;
  /** The last consoleLimits.rolloutDays days, oldest first, today last. */
  days: RolloutDay[];
  /** Every protocol of days[].appCodeLogins, in a fixed order. */
  protocols: string[];
  /** The first users (by address) who must set up two-step authentication and have not. */
  chase: { username: string; twofaState: string }[];
}

/** Audit events that mean a lockout began: each is written once per lockout (PolicyContext.firstRefusal). */
export const LOCKOUT_EVENTS: readonly string[] = ['login.throttled', '2fa.throttled', '2fa.locked', 'admin.sign-in.throttled'];

const PROTOCOL_ORDER = ['imap', 'pop3', 'smtp', 'submission', 'sieve', 'portal', 'other'];

const zero = (): RolloutCounts => ({ off: 0, allowed: 0, required: 0, on: 0, total: 0 });

/** The day's series a daily count adds to (at most one). */
function addTo(day: RolloutDay, c: AuditDailyCount): void {
  if (c.event === 'totp.confirm') day.enrolments += c.n;
  else if (c.event === 'login.ok' && c.via === 'app-code') day.appCodeLogins[c.protocol] = (day.appCodeLogins[c.protocol] ?? 0) + c.n;
  else if (c.event === 'login.fail' && c.why === 'not-an-app-code') day.refusedMainPassword += c.n;
  else if (LOCKOUT_EVENTS.includes(c.event)) day.lockouts += c.n;
}

/** The console's first page: how far the rollout has come, per domain and overall, and its last 30 days. */
export async function rolloutOverview(ctx: PolicyContext): Promise<RolloutOverview> {
  const today = auditDay(ctx.clock());
  const first = today - consoleLimits.rolloutDays + 1;
  await ctx.settleWrites(); // this process's latest events too
  const [counts, domainRows, daily, chase] = await ctx.wrapStore(() =>
    Promise.all([
      ctx.store.accounts.rolloutCounts(),
      ctx.store.domains.list(),
      ctx.store.audit.dailyCounts(first, today),
      ctx.store.accounts.listPage({ state: 'required', limit: consoleLimits.chaseRows }),
    ]),
  );
  const overall = zero();
  const byDomain = new Map<string, DomainRollout>();
  const domainOf = (d: string): DomainRollout => {
    let r = byDomain.get(d);
    if (!r) byDomain.set(d, (r = { domain: d, policy: null, ...zero() }));
    return r;
  };
  for (const d of domainRows) domainOf(d.domain).policy = d.policy;
  for (const c of counts) {
    const state = rolloutState(c.adminPolicy, c.twofaState);
    const r = domainOf(c.domain);
    for (const t of [r, overall]) {
      t[state] += c.n;
      t.total += c.n;
    }
  }
  const domains = [...byDomain.values()].sort((a, b) => b.total - a.total || a.domain.localeCompare(b.domain));
  const days: RolloutDay[] = [];
  for (let d = first; d <= today; d++) {
    days.push({ date: new Date(d * 86_400_000).toISOString().slice(0, 10), enrolments: 0, appCodeLogins: {}, refusedMainPassword: 0, lockouts: 0 });
  }
  for (const c of daily) {
    const day = days[c.day - first];
    if (day) addTo(day, c);
  }
  const seen = new Set(days.flatMap((d) => Object.keys(d.appCodeLogins)));
  const protocols = [...PROTOCOL_ORDER.filter((p) => seen.has(p)), ...[...seen].filter((p) => !PROTOCOL_ORDER.includes(p)).sort()];
  return {
    overall,
    domains: domains.slice(0, consoleLimits.overviewDomains),
    moreDomains: Math.max(0, domains.length - consoleLimits.overviewDomains),
    days,
    protocols,
    chase: chase.map((r) => ({ username: r.account.username, twofaState: r.account.twofaState })),
  };
}
