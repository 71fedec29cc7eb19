import { limits } from '../core/limits.js';
import type { AdminPolicy } from '../store/types.js';
import { disable, setAdminPolicy } from './admin.js';
import { iso, type PolicyContext } from './policy-context.js';
import type { AuditEntry } from './policy-results.js';
import { normalizeUsername } from './username.js';

/** Who did an admin action, from where: every action of the console is audited with it. */
export interface AdminActor {
  admin: string;
  ip: string;
}

/** allow / require / disallow from the console; the rule is setAdminPolicy's, the audit names the admin. */
export async function consoleSetPolicy(ctx: PolicyContext, actor: AdminActor, user: string, policy: AdminPolicy): Promise<void> {
  await setAdminPolicy(ctx, user, policy);
  recordAdminAction(ctx, actor, 'set-policy', user, { policy });
}

/**
 * Lost phone: the authenticator, one-time codes and trusted devices go and two-step
 * authentication is off until the user sets it up again. Application codes stay (they sign in
 * again once it is back on) unless `revokeAppCodes`, which is a full disable.
 */
export async function resetUser(ctx: PolicyContext, actor: AdminActor, user: string, opts: { revokeAppCodes: boolean }): Promise<void> {
  if (opts.revokeAppCodes) {
    await disable(ctx, user);
  } else {
    const a = await ctx.requireAccount(user);
    const now = ctx.clock();
    await ctx.tx(async (tx) => {
      await tx.accounts.clearTwofa(a.id, now);
      await tx.oneTimeCodes.deleteForAccount(a.id);
      await tx.trustedDevices.revokeAllForAccount(a.id, now);
    });
    ctx.audit({ at: now, username: a.username, event: 'twofa.reset', detail: { appCodesKept: true } });
    if (a.twofaState === 'on') ctx.notify(a.username, 'two-step-off', { by: 'admin' });
  }
  recordAdminAction(ctx, actor, 'reset-2fa', user, { revokeAppCodes: opts.revokeAppCodes });
}

export function recordAdminAction(ctx: PolicyContext, actor: AdminActor, action: string, user: string | null, detail: Record<string, unknown> = {}): void {
  ctx.audit({
    at: ctx.clock(),
    username: user === null ? null : normalizeUsername(user),
    event: 'admin.action',
    protocol: 'portal',
    ip: actor.ip,
    detail: { admin: actor.admin, action, ...detail },
  });
}

export interface AuditFilter {
  user?: string;
  /** An event name or its prefix: "login" matches login.ok, login.fail, ... */
  event?: string;
  protocol?: string;
  limit?: number;
}

export async function auditSearch(ctx: PolicyContext, f: AuditFilter): Promise<AuditEntry[]> {
  const limit = Math.min(Math.max(Math.trunc(f.limit ?? 100), 1), limits.portalAuditRows);
  const clean = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim().slice(0, 255));
  const user = clean(f.user);
  await ctx.settleWrites(); // this process's latest events too
  return ctx.wrapStore(async () =>
    (await ctx.store.audit.search({ username: user === undefined ? undefined : normalizeUsername(user), event: clean(f.event), protocol: clean(f.protocol), limit }))
      .map((e) => ({ at: iso(e.at), user: e.username, event: e.event, protocol: e.protocol, ip: e.ip, detail: e.detail })),
  );
}
