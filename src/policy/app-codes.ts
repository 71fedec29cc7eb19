import { TwostepError } from '../core/errors.js';
import { generateAppCode } from '../crypto/app-code.js';
import { codeLookup } from '../crypto/derive-keys.js';
import type { StoreRepos } from '../store/store.js';
import type { Account, AppCodeScope } from '../store/types.js';
import { normalizeAppCodeName } from './app-code-name.js';
import { APP_CODE_SCOPES, expiryOf, normalizeScopes } from './code-limits.js';
import { iso, isoOrNull, type PolicyContext } from './policy-context.js';
import type { AppCodeInfo, NewAppCodeOptions } from './policy-results.js';

async function checkCanAdd(ctx: PolicyContext, repos: StoreRepos, a: Account, name: string): Promise<void> {
  if (a.twofaState !== 'on') {
    throw new TwostepError('BAD_STATE', `two-step authentication is not on for ${a.username}`);
  }
  if (await repos.appCodes.findActiveByName(a.id, name)) {
    throw new TwostepError('NAME_TAKEN', `${a.username} already has an application code named "${name}"`);
  }
  const max = ctx.config.codes.max_app_codes;
  if ((await repos.appCodes.countActive(a.id)) >= max) {
    throw new TwostepError('LIMIT_REACHED', `${a.username} already has ${max} application codes; revoke one first`);
  }
}

/**
 * A new application code, shown once. `opts.scopes`: the protocols it may sign in to (default
 * all); `opts.expiresDays`: its lifetime (default [codes] default_expiry_days; 0 = never),
 * within [codes] max_expiry_days.
 */
export async function appCodeAdd(
  ctx: PolicyContext,
  user: string,
  name: string,
  opts: NewAppCodeOptions = {},
): Promise<{ name: string; code: string; scopes: AppCodeScope[]; expiresAt: string | null }> {
  const codeName = normalizeAppCodeName(name);
  const scopes = normalizeScopes(opts.scopes);
  const now = ctx.clock();
  const expiresAt = expiryOf(ctx.config.codes, opts.expiresDays, now);
  const a = await ctx.requireAccount(user);
  await ctx.wrapStore(() => checkCanAdd(ctx, ctx.store, a, codeName)); // fail fast, before hashing
  const code = generateAppCode();
  const hash = await ctx.hasher.hash(code);
  const lookup = codeLookup(ctx.lookupKey, code);
  const id = await ctx.tx(async (tx) => {
    const cur = await tx.accounts.findByUsername(a.username);
    if (!cur || cur.id !== a.id) throw new TwostepError('USER_NOT_FOUND', `no such user: ${a.username}`);
    await checkCanAdd(ctx, tx, cur, codeName); // again under the write lock
    return tx.appCodes.insert({ accountId: a.id, name: codeName, lookup, hash, createdAt: now, scopes, expiresAt });
  });
  const allowed = { scopes: scopes ?? 'all', expiresAt: isoOrNull(expiresAt) };
  ctx.audit({ at: now, username: a.username, event: 'appcode.add', detail: { codeId: id, codeName, ...allowed } });
  ctx.notify(a.username, 'app-code-added', { codeName, ...allowed });
  return { name: codeName, code, scopes: scopes ?? [...APP_CODE_SCOPES], expiresAt: isoOrNull(expiresAt) };
}

export async function appCodeList(ctx: PolicyContext, user: string): Promise<AppCodeInfo[]> {
  const a = await ctx.requireAccount(user);
  await ctx.settleWrites(); // show this process's latest uses
  return ctx.wrapStore(async () =>
    (await ctx.store.appCodes.listActive(a.id)).map((c) => ({
      name: c.name,
      createdAt: iso(c.createdAt),
      lastUsedAt: isoOrNull(c.lastUsedAt),
      lastUsedIp: c.lastUsedIp,
      lastUsedProtocol: c.lastUsedProtocol,
      lastUsedClient: c.lastUsedClient,
      scopes: c.scopes ?? [...APP_CODE_SCOPES],
      expiresAt: isoOrNull(c.expiresAt),
      expired: c.expiresAt !== null && c.expiresAt <= ctx.clock(),
    })),
  );
}

export async function appCodeRevoke(ctx: PolicyContext, user: string, name: string): Promise<void> {
  const a = await ctx.requireAccount(user);
  const codeName = name.trim();
  const now = ctx.clock();
  const id = await ctx.tx(async (tx) => {
    const c = await tx.appCodes.findActiveByName(a.id, codeName);
    if (!c) throw new TwostepError('NOT_FOUND', `${a.username} has no active application code named "${codeName}"`);
    await tx.appCodes.revoke(c.id, now);
    return c.id;
  });
  ctx.verified.invalidateCode(id);
  ctx.audit({ at: now, username: a.username, event: 'appcode.revoke', detail: { codeId: id, codeName } });
  ctx.notify(a.username, 'app-code-revoked', { codeName });
}
