import { createHash, randomBytes } from 'node:crypto';
import type { PolicyContext } from './policy-context.js';
import { normalizeUsername, usernameProblem } from './username.js';

/** Device tokens are 256-bit random values: a plain SHA-256 is enough to store them. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function trustDevice(ctx: PolicyContext, user: string, label: string): string {
  const a = ctx.requireOn(user);
  const cleanLabel = label.trim().slice(0, 128) || 'device';
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const id = ctx.wrapStore(() =>
    ctx.store.trustedDevices.insert({ accountId: a.id, tokenHash: hashToken(token), label: cleanLabel, createdAt: now }),
  );
  ctx.audit({ at: now, username: a.username, event: 'device.trust', detail: { deviceId: id, label: cleanLabel } });
  return token;
}

export function isTrustedDevice(ctx: PolicyContext, user: string, token: string): boolean {
  if (usernameProblem(user) !== null || token.length > 256) return false;
  const a = ctx.readAccount(normalizeUsername(user));
  if (!a || a.twofaState !== 'on') return false;
  const d = ctx.wrapStore(() => ctx.store.trustedDevices.findActive(a.id, hashToken(token)));
  return !!d && ctx.wrapStore(() => ctx.store.trustedDevices.touch(d.id, ctx.clock()));
}

export function revokeTrustedDevices(ctx: PolicyContext, user: string, opts: { exceptToken?: string }): number {
  const a = ctx.requireAccount(user);
  const now = ctx.clock();
  const n = ctx.tx(() => {
    const keep = opts.exceptToken === undefined ? undefined : ctx.store.trustedDevices.findActive(a.id, hashToken(opts.exceptToken));
    return ctx.store.trustedDevices.revokeAllForAccount(a.id, now, keep?.id);
  });
  ctx.audit({ at: now, username: a.username, event: 'device.revoke', detail: { count: n, keptCurrent: opts.exceptToken !== undefined } });
  return n;
}
