import { TwostepError } from '../core/errors.js';
import type { AdminPolicy } from '../store/types.js';
import { iso, type PolicyContext } from './policy-context.js';
import type { AuditEntry, UserSummary } from './policy-results.js';
import { normalizeUsername } from './username.js';

const ADMIN_POLICIES: readonly AdminPolicy[] = ['allowed', 'required', 'disallowed'];
const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 10_000;

export function setAdminPolicy(ctx: PolicyContext, user: string, policy: AdminPolicy): void {
  if (!ADMIN_POLICIES.includes(policy)) {
    throw new TwostepError('INVALID_INPUT', `admin policy must be one of ${ADMIN_POLICIES.join(', ')}`);
  }
  const username = ctx.adminUsername(user);
  const now = ctx.clock();
  ctx.tx(() => {
    const existing = ctx.store.accounts.findByUsername(username);
    const account = existing ?? ctx.store.accounts.create(username, policy, now);
    if (existing) ctx.store.accounts.setAdminPolicy(account.id, policy, now);
    if (policy === 'disallowed') ctx.wipeTwoStep(account.id, now);
  });
  ctx.audit({ at: now, username, event: 'admin.policy', detail: { policy } });
}

export function showUser(ctx: PolicyContext, user: string): UserSummary {
  const a = ctx.requireAccount(user);
  return ctx.wrapStore(() => ({
    username: a.username,
    adminPolicy: a.adminPolicy,
    twofaState: a.twofaState,
    appCodes: ctx.store.appCodes.countActive(a.id),
    oneTimeCodesUnused: ctx.store.oneTimeCodes.countUnused(a.id),
    trustedDevices: ctx.store.trustedDevices.countActive(a.id),
    createdAt: iso(a.createdAt),
  }));
}

export function disable(ctx: PolicyContext, user: string): void {
  const a = ctx.requireAccount(user);
  const now = ctx.clock();
  ctx.tx(() => ctx.wipeTwoStep(a.id, now));
  ctx.audit({ at: now, username: a.username, event: 'twofa.disable' });
}

export function listAudit(ctx: PolicyContext, opts: { user?: string; limit?: number }): AuditEntry[] {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? AUDIT_DEFAULT_LIMIT), 1), AUDIT_MAX_LIMIT);
  const username = opts.user === undefined ? undefined : normalizeUsername(opts.user);
  return ctx.wrapStore(() =>
    ctx.store.audit.list({ username, limit }).map((e) => ({
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
export function pruneAudit(ctx: PolicyContext, batch: number): number {
  const days = ctx.config.store.audit_retention_days;
  if (days === 0) return 0;
  const before = ctx.clock() - days * DAY_MS;
  let total = 0;
  for (;;) {
    const n = ctx.wrapStore(() => ctx.store.audit.deleteBefore(before, batch));
    total += n;
    if (n < batch) break;
  }
  if (total > 0) ctx.logger.info({ event: 'audit-pruned', deleted: total, retentionDays: days }, 'audit pruned');
  return total;
}
