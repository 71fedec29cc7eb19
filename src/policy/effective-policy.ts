import { TwostepError } from '../core/errors.js';
import { consoleLimits } from '../core/limits.js';
import type { RolloutState } from '../store/console-store.js';
import type { StoreRepos } from '../store/store.js';
import type { Account, AdminPolicy, TwofaState } from '../store/types.js';
import type { PolicyContext } from './policy-context.js';

/**
 * Which admin policy applies to a user, and where it comes from: the one place of that rule.
 *
 * The user's own setting (`twostep user allow|require|disallow`, the console) wins; without one,
 * the user's domain's (`twostep domain ...`); without that, the default: two-step authentication
 * not offered. An account that follows its domain keeps the policy that applies in its row (the
 * domain changes update it, see domains.ts), so every rule that reads Account.adminPolicy (the
 * login, enrolment, "may disable") reads the applicable one; a user twostep has no account for
 * yet is looked up here. Whatever applies, the login rule (login.ts) asks for an application code
 * only once two-step authentication is on: requiring it never locks anyone out of mail before
 * they set it up.
 */

export type PolicySource = 'user' | 'domain' | 'default';

export interface ApplicablePolicy {
  policy: AdminPolicy;
  source: PolicySource;
}

/** No setting of the user's, none of the domain's: two-step authentication is not offered. */
export const DEFAULT_POLICY: AdminPolicy = 'disallowed';

export const ADMIN_POLICIES: readonly AdminPolicy[] = ['allowed', 'required', 'disallowed'];

/** The user's own setting, else the domain's, else the default. */
export function applicablePolicy(own: AdminPolicy | null, domain: AdminPolicy | null): ApplicablePolicy {
  if (own !== null) return { policy: own, source: 'user' };
  if (domain !== null) return { policy: domain, source: 'domain' };
  return { policy: DEFAULT_POLICY, source: 'default' };
}

/** The domain of a (normalized) user name as the store computes it: after the first '@', '' without one. */
export function domainOf(username: string): string {
  const at = username.indexOf('@');
  return at < 0 ? '' : username.slice(at + 1);
}

/** Where an account stands in the rollout (the store's list filters by the same rule: ROLLOUT_STATE_SQL). */
export function rolloutState(policy: AdminPolicy, twofa: TwofaState): RolloutState {
  if (twofa === 'on') return 'on';
  return policy === 'disallowed' ? 'off' : policy;
}

/** A domain name as an admin typed it, normalized; INVALID_INPUT when it cannot be one. */
export function domainName(input: string): string {
  const d = input.trim().toLowerCase().replace(/^@/, '');
  // Control characters are refused on purpose: a domain name never holds one.
  // eslint-disable-next-line no-control-regex
  if (d.length === 0 || d.length > consoleLimits.domainChars || !/^[^\s@/\\,;:"'<>()[\]\u0000-\u001f\u007f-\u009f]+$/.test(d)) {
    throw new TwostepError('INVALID_INPUT', 'a domain is a name like example.com (no "@", spaces or punctuation)');
  }
  return d;
}

/** What applies to `username` (its account, when twostep has one, read by the caller). */
export async function policyOf(ctx: PolicyContext, username: string, account: Account | undefined): Promise<ApplicablePolicy> {
  if (account?.ownPolicy) return applicablePolicy(account.adminPolicy, null);
  const domain = domainOf(username);
  const row = domain === '' ? undefined : await ctx.wrapStore(() => ctx.store.domains.find(domain));
  return applicablePolicy(null, row?.policy ?? null);
}

/** The user's account (if any) and what applies to them (`user show`). */
export async function userPolicy(ctx: PolicyContext, user: string): Promise<{ username: string; account: Account | undefined; applies: ApplicablePolicy }> {
  const username = ctx.adminUsername(user);
  const account = await ctx.readAccount(username);
  return { username, account, applies: await policyOf(ctx, username, account) };
}

/**
 * Inside transaction `tx`: the account of `username`, or a new one following its domain when the
 * domain has a policy (a user the domain's policy reaches; enrolment needs the row). Undefined
 * when there is neither.
 */
export async function accountOrFollower(tx: StoreRepos, username: string, now: number): Promise<Account | undefined> {
  const existing = await tx.accounts.findByUsername(username);
  if (existing) return existing;
  const domain = domainOf(username);
  const row = domain === '' ? undefined : await tx.domains.find(domain);
  if (!row) return undefined;
  const created = await tx.accounts.create(username, row.policy, now);
  await tx.accounts.setPolicy(created.id, row.policy, false, now);
  return { ...created, ownPolicy: false };
}

/**
 * A user of a domain with a policy signed in (mail or portal) and twostep has no account yet:
 * one is made, following the domain, so the rollout counts them and the console lists them (to
 * chase those who must still set up). Only after the mail server accepted the password: a
 * stranger's guesses create nothing. Nobody waits for it; a failure is only logged.
 */
export function noteSeenUser(ctx: PolicyContext, username: string): void {
  const domain = domainOf(username);
  if (domain === '') return;
  void (async () => {
    if (!(await ctx.store.domains.find(domain))) return;
    await ctx.store.transaction((tx) => accountOrFollower(tx, username, ctx.clock()));
  })().catch((err: unknown) => {
    ctx.logger.warn({ event: 'account.note-failed', user: username, err: err instanceof Error ? err.message : String(err) }, 'could not record a new user of a domain');
  });
}
