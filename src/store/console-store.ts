import type { Account, AdminPolicy, AuditEvent, TwofaState } from './types.js';

/**
 * What the admin console asks of the store (issue 17), beside the repositories of store.ts: pages
 * of accounts and audit events for 100,000 users and 1,000,000 events (keyset pagination, one
 * index each), the rollout counts, the audit's daily counts and the domains' policies. Every
 * database implements them with the same meaning; the SQLite one is in sqlite/.
 */

/**
 * Where an account stands in the rollout, from its admin policy and two-step state:
 * 'on' — two-step on (whatever the policy);
 * 'required' / 'allowed' — that policy, two-step not on (off, or set-up under way);
 * 'off' — 'disallowed', two-step not on.
 */
export type RolloutState = 'off' | 'allowed' | 'required' | 'on';

export interface AccountListQuery {
  /** Part of the user name (lowercase), matched anywhere in it. */
  contains?: string;
  /** Exactly this domain ('' = names without '@'). */
  domain?: string;
  state?: RolloutState;
  /** The next page: names after this one. */
  after?: string;
  /** The previous page: the names just before this one (still returned in ascending order). */
  before?: string;
  limit: number;
}

export interface AccountListRow {
  account: Account;
  /** Active application codes. */
  appCodes: number;
  /** Active trusted devices. */
  trustedDevices: number;
}

/** How many accounts have this domain, policy and two-step state. */
export interface RolloutCount {
  domain: string;
  adminPolicy: AdminPolicy;
  twofaState: TwofaState;
  n: number;
}

export interface AccountsConsoleRepo {
  /** One page of accounts by name, ascending, filtered (see AccountListQuery); at most `limit`. */
  listPage(q: AccountListQuery): Promise<AccountListRow[]>;
  /** Accounts counted per (domain, admin policy, two-step state). */
  rolloutCounts(): Promise<RolloutCount[]>;
  /** The policy that applies, and whether it is the user's own (true) or their domain's (false). */
  setPolicy(id: number, policy: AdminPolicy, own: boolean, now: number): Promise<void>;
  /**
   * Accounts of `domain` that follow it (not their own policy) and whose policy is not `policy`
   * get it: at most `batch` of them; returns how many (call again until fewer than `batch`).
   */
  syncDomainFollowers(domain: string, policy: AdminPolicy, now: number, batch: number): Promise<number>;
  /** At most `limit` accounts of `domain` that are 'disallowed' while two-step is not off (to be wiped). */
  listDisallowedNotOff(domain: string, limit: number): Promise<Account[]>;
}

/** A domain's policy: the default of every user of the domain without a setting of their own. */
export interface DomainPolicy {
  domain: string;
  policy: AdminPolicy;
  createdAt: number;
  updatedAt: number;
}

export interface DomainsRepo {
  find(domain: string): Promise<DomainPolicy | undefined>;
  /** Every domain with a policy, by name. */
  list(): Promise<DomainPolicy[]>;
  /** Sets (creating or replacing) the domain's policy. */
  set(domain: string, policy: AdminPolicy, now: number): Promise<void>;
  /** The domain has no policy any more; false when it had none. */
  delete(domain: string): Promise<boolean>;
}

/** A position in the audit log, newest first: events are ordered by (at, id) descending. */
export interface AuditCursor {
  at: number;
  id: number;
}

export interface AuditPageQuery {
  username?: string;
  /** Any of these exact event names; an empty list matches nothing. */
  events?: readonly string[];
  protocol?: string;
  ip?: string;
  /** at >= since */
  since?: number;
  /** at < until */
  until?: number;
  /** The next page: events older than this position. */
  after?: AuditCursor;
  /** The previous page: the events just newer than this position. */
  before?: AuditCursor;
  limit: number;
}

/** Events of one UTC day (at / 86,400,000) with this event, protocol and detail "via" and "why" ('' when absent). */
export interface AuditDailyCount {
  day: number;
  event: string;
  protocol: string;
  via: string;
  why: string;
  n: number;
}

/**
 * Every AuditRepo.insert also adds 1 to its AuditDailyCount, in the same transaction: via and why
 * are the detail's string values of those keys, at most 64 characters.
 */
export interface AuditConsoleRepo {
  /** One page, newest first (also for `before`), filtered: all filters must hold. */
  page(q: AuditPageQuery): Promise<AuditEvent[]>;
  /** Every event name ever counted, by name. */
  eventNames(): Promise<string[]>;
  /** The daily counts of days fromDay..toDay (inclusive). */
  dailyCounts(fromDay: number, toDay: number): Promise<AuditDailyCount[]>;
}

export interface AdminsConsoleRepo {
  /** Accepts `step` once (as advanceTotpStep) and marks the key proven at `now`; false for a replayed or older step. */
  confirmTotp(id: number, step: number, now: number): Promise<boolean>;
}

/** The day number of AuditDailyCount. */
export const auditDay = (at: number): number => Math.floor(at / 86_400_000);

/** The "via" or "why" of an event's detail as AuditDailyCount keeps it. */
export function dailyKey(detail: Record<string, unknown> | undefined, key: 'via' | 'why'): string {
  const v = detail?.[key];
  return typeof v === 'string' ? v.slice(0, 64) : '';
}
