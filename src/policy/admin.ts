import { limits, secondFactorLimits } from '../core/limits.js';
import { TwostepError } from '../core/errors.js';
import type { AdminPolicy } from '../store/types.js';
import { iso, type PolicyContext } from './policy-context.js';
import { ADMIN_POLICIES, userPolicy } from './effective-policy.js';
import type { AuditEntry, UserSummary } from './policy-results.js';
import { normalizeUsername } from './username.js';

const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 10_000;

export async function setAdminPolicy(ctx: PolicyContext, user: string, policy: AdminPolicy): Promise<void> {
  if (!ADMIN_POLICIES.includes(policy)) {
    throw new TwostepError('INVALID_INPUT', `admin policy must be one of ${ADMIN_POLICIES.join(', ')}`);
  }
  const username = ctx.adminUsername(user);
  const now = ctx.clock();
  const wasOn = await ctx.tx(async (tx) => {
    const existing = await tx.accounts.findByUsername(username);
    const account = existing ?? (await tx.accounts.create(username, policy, now));
    // The user's own setting from now on (it overrides the domain's).
    if (existing) await tx.accounts.setPolicy(account.id, policy, true, now);
    if (policy === 'disallowed') await ctx.wipeTwoStep(tx, account.id, now);
    return existing?.twofaState === 'on';
  });
  ctx.audit({ at: now, username, event: 'admin.policy', detail: { policy } });
  if (policy === 'disallowed' && wasOn) ctx.notify(username, 'two-step-off', { by: 'admin' });
}

/**
 * The user's policy (and where it comes from: source user | domain | default), two-step state and
 * counts. A user twostep has no account for is USER_NOT_FOUND, unless their domain has a policy:
 * then that applies (a new user of a required domain is required).
 */
export async function showUser(ctx: PolicyContext, user: string): Promise<UserSummary> {
  const { username, account: a, applies } = await userPolicy(ctx, user);
  if (!a) {
    if (applies.source === 'default') throw new TwostepError('USER_NOT_FOUND', `no such user: ${username}`);
    return { username, adminPolicy: applies.policy, source: applies.source, twofaState: 'off', appCodes: 0, oneTimeCodesUnused: 0, trustedDevices: 0, createdAt: null };
  }
  return ctx.wrapStore(async () => ({
    username: a.username,
    adminPolicy: a.adminPolicy,
    source: applies.source,
    twofaState: a.twofaState,
    appCodes: await ctx.store.appCodes.countActive(a.id),
    oneTimeCodesUnused: await ctx.store.oneTimeCodes.countUnused(a.id),
    trustedDevices: await ctx.store.trustedDevices.countActive(a.id),
    createdAt: iso(a.createdAt),
  }));
}

export async function disable(ctx: PolicyContext, user: string): Promise<void> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  await ctx.tx((tx) => ctx.wipeTwoStep(tx, a.id, now));
  ctx.audit({ at: now, username: a.username, event: 'twofa.disable' });
  if (a.twofaState === 'on') ctx.notify(a.username, 'two-step-off');
}

export async function listAudit(ctx: PolicyContext, opts: { user?: string; limit?: number }): Promise<AuditEntry[]> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? AUDIT_DEFAULT_LIMIT), 1), AUDIT_MAX_LIMIT);
  const username = opts.user === undefined ? undefined : normalizeUsername(opts.user);
  await ctx.settleWrites(); // this process's latest events too
  return ctx.wrapStore(async () =>
    (await ctx.store.audit.list({ username, limit })).map((e) => ({
      at: iso(e.at),
      user: e.username,
      event: e.event,
      protocol: e.protocol,
      ip: e.ip,
      detail: e.detail,
    })),
  );
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * Deletes audit events older than [store] audit_retention_days (0 keeps everything), in short
 * batches so concurrent logins never wait behind one long delete. Returns how many went.
 */
export async function pruneAudit(ctx: PolicyContext, batch: number): Promise<number> {
  const days = ctx.config.store.audit_retention_days;
  if (days === 0) return 0;
  const before = ctx.clock() - days * DAY_MS;
  await ctx.settleWrites(); // what this process queued is pruned by the same rule
  let total = 0;
  for (;;) {
    const n = await ctx.wrapStore(() => ctx.store.audit.deleteBefore(before, batch));
    total += n;
    if (n < batch) break;
  }
  if (total > 0) ctx.logger.info({ event: 'audit-pruned', deleted: total, retentionDays: days }, 'audit pruned');
  return total;
}

/**
 * Deletes what the guessing bounds no longer count (failures older than the longest window, the
 * second step's 30 days; expired reservations) and sources not seen for limits.knownSourceMs.
 */
export async function pruneGuard(ctx: PolicyContext, batch: number): Promise<number> {
  const now = ctx.clock();
  const before = now - Math.max(secondFactorLimits.secondFactorWindowMs, ctx.config.auth.failure_window_seconds * 1000);
  let total = 0;
  for (;;) {
    const n = await ctx.wrapStore(() => ctx.store.attempts.prune(before, now, batch));
    total += n;
    if (n < batch) break;
  }
  return total + (await ctx.wrapStore(() => ctx.store.knownSources.prune(now - limits.knownSourceMs)));
}
