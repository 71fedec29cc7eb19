import { createHash, randomBytes } from 'node:crypto';
import type { PolicyContext } from './policy-context.js';
import { normalizeUsername, usernameProblem } from './username.js';

/** Device tokens are 256-bit random values: a plain SHA-256 is enough to store them. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Trusts the browser asking (its new token goes into a cookie); `sessionToken`: the portal session
 * of that browser, which revoking the device then ends too.
 */
export async function trustDevice(ctx: PolicyContext, user: string, label: string, sessionToken?: string): Promise<string> {
  const a = await ctx.requireOn(user);
  const cleanLabel = label.trim().slice(0, 128) || 'device';
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const id = await ctx.wrapStore(() =>
    ctx.store.trustedDevices.insert({ accountId: a.id, tokenHash: hashToken(token), label: cleanLabel, createdAt: now }),
  );
  if (sessionToken !== undefined) await ctx.wrapStore(() => ctx.store.webSessions.setDevice(hashToken(sessionToken), id));
  ctx.audit({ at: now, username: a.username, event: 'device.trust', detail: { deviceId: id, label: cleanLabel } });
  return token;
}

export async function isTrustedDevice(ctx: PolicyContext, user: string, token: string): Promise<boolean> {
  if (usernameProblem(user) !== null || token.length > 256) return false;
  const a = await ctx.readAccount(normalizeUsername(user));
  if (!a || a.twofaState !== 'on') return false;
  const d = await ctx.wrapStore(() => ctx.store.trustedDevices.findActive(a.id, hashToken(token)));
  if (!d) return false;
  seenDevice(ctx, d.id);
  return true;
}

/** Last seen of a trusted device: queued, nobody waits for it. */
export function seenDevice(ctx: PolicyContext, deviceId: number): void {
  ctx.store.later({ kind: 'device-seen', deviceId, at: ctx.clock() });
}

/**
 * Revokes every trusted device of the user, or every one but the browser holding `exceptToken`
 * ("revoke all other devices"), and ends the portal sessions those devices opened (all but
 * `sessionToken`'s, the browser asking).
 */
export async function revokeTrustedDevices(ctx: PolicyContext, user: string, opts: { exceptToken?: string; sessionToken?: string }): Promise<number> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  const keepHash = opts.exceptToken === undefined ? undefined : hashToken(opts.exceptToken);
  const { n, ended } = await ctx.tx(async (tx) => {
    const keep = keepHash === undefined ? undefined : await tx.trustedDevices.findActive(a.id, keepHash);
    const revokedIds = (await tx.trustedDevices.listActive(a.id)).map((d) => d.id).filter((id) => id !== keep?.id);
    const count = await tx.trustedDevices.revokeAllForAccount(a.id, now, keep?.id);
    const sessions = await tx.webSessions.deleteForDevices(revokedIds, opts.sessionToken === undefined ? undefined : hashToken(opts.sessionToken));
    return { n: count, ended: sessions };
  });
  ctx.audit({ at: now, username: a.username, event: 'device.revoke', detail: { count: n, keptCurrent: opts.exceptToken !== undefined, sessionsEnded: ended } });
  return n;
}
