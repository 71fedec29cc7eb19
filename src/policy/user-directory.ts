import { TwostepError } from '../core/errors.js';
import { consoleLimits } from '../core/limits.js';
import type { RolloutState } from '../store/console-store.js';
import type { AdminPolicy, TwofaState } from '../store/types.js';
import { domainOf, rolloutState, type PolicySource } from './effective-policy.js';
import type { PolicyContext } from './policy-context.js';

export const ROLLOUT_STATES: readonly RolloutState[] = ['off', 'allowed', 'required', 'on'];

/** The console's user list: a search, filters and a keyset position (all optional). */
export interface UserQuery {
  /** Part of the address, anywhere in it. */
  q?: string;
  state?: RolloutState;
  domain?: string;
  /** The next page: addresses after this one. */
  after?: string;
  /** The previous page: addresses before this one. */
  before?: string;
}

export interface UserRow {
  username: string;
  /** The policy that applies, and where it comes from. */
  adminPolicy: AdminPolicy;
  source: PolicySource;
  twofaState: TwofaState;
  state: RolloutState;
  appCodes: number;
  trustedDevices: number;
}

export interface UserPage {
  users: UserRow[];
  /** Position of the next page (its `after`), or null at the end. */
  next: string | null;
  /** Position of the previous page (its `before`), or null on the first page. */
  prev: string | null;
}

const text = (s: string | undefined): string | undefined => {
  const t = s?.trim().toLowerCase();
  if (t === undefined || t === '') return undefined;
  if (t.length > consoleLimits.filterChars) throw new TwostepError('INVALID_INPUT', `a filter is at most ${consoleLimits.filterChars} characters`);
  return t;
};

/**
 * One page of users by address, filtered on the server: a part of the address, a domain, a
 * rollout state. Keyset pagination (after / before an address): every page costs the same, the
 * thousandth as the first.
 */
export async function findUsers(ctx: PolicyContext, query: UserQuery): Promise<UserPage> {
  if (query.state !== undefined && !ROLLOUT_STATES.includes(query.state)) throw new TwostepError('INVALID_INPUT', 'unknown state');
  const limit = consoleLimits.userPageRows;
  const after = text(query.after);
  const before = after === undefined ? text(query.before) : undefined;
  const q = { contains: text(query.q), domain: text(query.domain)?.replace(/^@/, ''), state: query.state, after, before, limit: limit + 1 };
  const [rows, domains] = await ctx.wrapStore(() => Promise.all([ctx.store.accounts.listPage(q), ctx.store.domains.list()]));
  const withPolicy = new Set(domains.map((d) => d.domain));
  // One row more than the page tells whether there is more in the direction walked.
  const more = rows.length > limit;
  const page = before === undefined ? rows.slice(0, limit) : rows.slice(rows.length - Math.min(rows.length, limit));
  const users = page.map(({ account: a, appCodes, trustedDevices }): UserRow => ({
    username: a.username,
    adminPolicy: a.adminPolicy,
    source: a.ownPolicy ? 'user' : withPolicy.has(domainOf(a.username)) ? 'domain' : 'default',
    twofaState: a.twofaState,
    state: rolloutState(a.adminPolicy, a.twofaState),
    appCodes,
    trustedDevices,
  }));
  const first = users[0]?.username ?? null;
  const last = users[users.length - 1]?.username ?? null;
  if (before !== undefined) return { users, next: last, prev: more ? first : null };
  return { users, next: more ? last : null, prev: after !== undefined ? first : null };
}
