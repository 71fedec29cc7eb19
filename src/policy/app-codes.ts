import { TwostepError } from '../core/errors.js';
import { generateAppCode } from '../crypto/app-code.js';
import { codeLookup } from '../crypto/derive-keys.js';
import type { Account } from '../store/types.js';
import { normalizeAppCodeName } from './app-code-name.js';
import { iso, isoOrNull, type PolicyContext } from './policy-context.js';
import type { AppCodeInfo } from './policy-results.js';

function checkCanAdd(ctx: PolicyContext, a: Account, name: string): void {
  if (a.twofaState !== 'on') {
    throw new TwostepError('BAD_STATE', `two-step authentication is not on for ${a.username}`);
  }
  if (ctx.store.appCodes.findActiveByName(a.id, name)) {
    throw new TwostepError('NAME_TAKEN', `${a.username} already has an application code named "${name}"`);
  }
  const max = ctx.config.codes.max_app_codes;
  if (ctx.store.appCodes.countActive(a.id) >= max) {
    throw new TwostepError('LIMIT_REACHED', `${a.username} already has ${max} application codes; revoke one first`);
  }
}

export async function appCodeAdd(ctx: PolicyContext, user: string, name: string): Promise<{ name: string; code: string }> {
  const codeName = normalizeAppCodeName(name);
  const a = ctx.requireAccount(user);
  ctx.wrapStore(() => checkCanAdd(ctx, a, codeName)); // fail fast, before hashing
  const code = generateAppCode();
  const hash = await ctx.hasher.hash(code);
  const now = ctx.clock();
  const id = ctx.tx(() => {
    const cur = ctx.store.accounts.findByUsername(a.username);
    if (!cur || cur.id !== a.id) throw new TwostepError('USER_NOT_FOUND', `no such user: ${a.username}`);
    checkCanAdd(ctx, cur, codeName); // again under the write lock
    return ctx.store.appCodes.insert({ accountId: a.id, name: codeName, lookup: codeLookup(ctx.lookupKey, code), hash, createdAt: now });
  });
  ctx.audit({ at: now, username: a.username, event: 'appcode.add', detail: { codeId: id, codeName } });
  return { name: codeName, code };
}

export function appCodeList(ctx: PolicyContext, user: string): AppCodeInfo[] {
  const a = ctx.requireAccount(user);
  ctx.lastUsed.flush(); // show this process's latest uses
  return ctx.wrapStore(() =>
    ctx.store.appCodes.listActive(a.id).map((c) => ({
      name: c.name,
      createdAt: iso(c.createdAt),
      lastUsedAt: isoOrNull(c.lastUsedAt),
      lastUsedIp: c.lastUsedIp,
      lastUsedProtocol: c.lastUsedProtocol,
      lastUsedClient: c.lastUsedClient,
    })),
  );
}

export function appCodeRevoke(ctx: PolicyContext, user: string, name: string): void {
  const a = ctx.requireAccount(user);
  const codeName = name.trim();
  const now = ctx.clock();
  const id = ctx.tx(() => {
    const c = ctx.store.appCodes.findActiveByName(a.id, codeName);
    if (!c) throw new TwostepError('NOT_FOUND', `${a.username} has no active application code named "${codeName}"`);
    ctx.store.appCodes.revoke(c.id, now);
    return c.id;
  });
  ctx.verified.invalidateCode(id);
  ctx.audit({ at: now, username: a.username, event: 'appcode.revoke', detail: { codeId: id, codeName } });
}
