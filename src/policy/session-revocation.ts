import type { PolicyContext } from './policy-context.js';
import type { RevokedSession } from './types.js';

/**
 * See Policy.revokedCodeIds: the ids among `codeIds` that the store no longer holds as valid, or
 * whose code expired meanwhile (its sessions end like a revoked code's).
 */
export async function revokedCodeIds(ctx: PolicyContext, codeIds: readonly number[]): Promise<number[]> {
  const unique = [...new Set(codeIds)];
  if (unique.length === 0) return [];
  const valid = new Set(await ctx.wrapStore(() => ctx.store.appCodes.stillValidAmong(unique)));
  for (const id of await ctx.wrapStore(() => ctx.store.appCodes.expiredAmong([...valid], ctx.clock()))) valid.delete(id);
  return unique.filter((id) => !valid.has(id));
}

export function recordSessionRevoked(ctx: PolicyContext, s: RevokedSession): void {
  ctx.audit({
    at: ctx.clock(),
    username: s.user,
    event: 'session.revoked',
    protocol: s.protocol,
    ip: s.clientIp,
    detail: { codeId: s.codeId, codeName: s.codeName, cid: s.cid },
  });
}

/**
 * See Policy.onRevocation: each notice of the store (a revoke or two-step off, by any process or
 * node) first drops the codes from this process's login cache, then calls `listener`. A null
 * notice (notices may have been missed) drops nothing: a cached login checks its code row anyway.
 */
export function onRevocation(ctx: PolicyContext, listener: () => void): () => void {
  return ctx.store.watchRevocations((n) => {
    if (n?.codeId === null) ctx.verified.invalidateAccount(n.accountId);
    else if (n) ctx.verified.invalidateCode(n.codeId);
    listener();
  });
}
