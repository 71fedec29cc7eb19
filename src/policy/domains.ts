import { consoleLimits } from '../core/limits.js';
import type { AdminPolicy } from '../store/types.js';
import { recordAdminAction, type AdminActor } from './admin-console.js';
import { applicablePolicy, domainName, domainOf, type PolicySource } from './effective-policy.js';
import { iso, type PolicyContext } from './policy-context.js';

/** A domain's policy as the CLI and the console show it. */
export interface DomainInfo {
  domain: string;
  policy: AdminPolicy;
  /** ISO-8601 UTC. */
  updatedAt: string;
}

/** What a change of policy did. */
export interface PolicyChange {
  /** Accounts whose policy changed with their domain's. */
  followers: number;
  /** Users whose two-step authentication went off (their policy became 'disallowed'). */
  wiped: string[];
}

export async function listDomains(ctx: PolicyContext): Promise<DomainInfo[]> {
  const rows = await ctx.wrapStore(() => ctx.store.domains.list());
  return rows.map((r) => ({ domain: r.domain, policy: r.policy, updatedAt: iso(r.updatedAt) }));
}

/**
 * The default of every user of `domain` without a setting of their own (null: no default any
 * more, so the global default applies). The accounts that follow the domain take the new policy,
 * in batches (consoleLimits.domainBatchRows per transaction: a domain of 100,000 never holds the
 * database for long); those now 'disallowed' lose two-step authentication as `user disallow` does.
 * Each batch re-reads the domain's policy, so two admins changing it at once end with the last one.
 */
export async function setDomainPolicy(ctx: PolicyContext, input: string, policy: AdminPolicy | null, actor?: AdminActor): Promise<PolicyChange> {
  const domain = domainName(input);
  const now = ctx.clock();
  await ctx.tx(async (tx) => {
    if (policy === null) await tx.domains.delete(domain);
    else await tx.domains.set(domain, policy, now);
  });
  const batch = consoleLimits.domainBatchRows;
  let followers = 0;
  for (;;) {
    const n = await ctx.tx(async (tx) => {
      const applies = applicablePolicy(null, (await tx.domains.find(domain))?.policy ?? null).policy;
      return tx.accounts.syncDomainFollowers(domain, applies, ctx.clock(), batch);
    });
    followers += n;
    if (n < batch) break;
  }
  const wiped = await wipeDisallowed(ctx, domain);
  ctx.audit({ at: now, username: null, event: 'domain.policy', detail: { domain, policy, followers, wiped: wiped.length } });
  if (actor) recordAdminAction(ctx, actor, policy === null ? 'clear-domain-policy' : 'set-domain-policy', null, { domain, policy });
  return { followers, wiped };
}

/**
 * The user's own setting goes: the domain's policy (or the default) applies from now on, and
 * follows the domain's later changes. Two-step authentication goes off if that is 'disallowed'.
 */
export async function followDomain(ctx: PolicyContext, user: string, actor?: AdminActor): Promise<{ policy: AdminPolicy; source: PolicySource; wiped: boolean }> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  const applies = await ctx.tx(async (tx) => {
    const row = await tx.domains.find(domainOf(a.username));
    const r = applicablePolicy(null, row?.policy ?? null);
    await tx.accounts.setPolicy(a.id, r.policy, false, now);
    const wipe = r.policy === 'disallowed' && a.twofaState !== 'off';
    if (wipe) await ctx.wipeTwoStep(tx, a.id, now);
    return { ...r, wiped: wipe };
  });
  ctx.audit({ at: now, username: a.username, event: 'admin.policy', detail: { policy: applies.policy, source: applies.source } });
  if (actor) recordAdminAction(ctx, actor, 'follow-domain', a.username, { policy: applies.policy, source: applies.source });
  return applies;
}

/** Two-step off for every account of `domain` that is 'disallowed' but still has it (in batches). */
async function wipeDisallowed(ctx: PolicyContext, domain: string): Promise<string[]> {
  const wiped: string[] = [];
  const batch = consoleLimits.domainWipeBatch;
  for (;;) {
    const now = ctx.clock();
    const names = await ctx.tx(async (tx) => {
      const done: string[] = [];
      for (const a of await tx.accounts.listDisallowedNotOff(domain, batch)) {
        await ctx.wipeTwoStep(tx, a.id, now);
        done.push(a.username);
      }
      return done;
    });
    for (const username of names) ctx.audit({ at: now, username, event: 'twofa.disable', detail: { reason: 'domain-disallowed', domain } });
    wiped.push(...names);
    if (names.length < batch) return wiped;
  }
}
