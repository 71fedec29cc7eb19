import { TwostepError } from '../core/errors.js';
import { codeLookup } from '../crypto/derive-keys.js';
import { ONE_TIME_CODES_PER_SET, generateOneTimeCode, normalizeOneTimeCode } from '../crypto/one-time-code.js';
import { decryptSecret, encryptSecret } from '../crypto/secret-box.js';
import type { StoreRepos } from '../store/store.js';
import type { Account } from '../store/types.js';
import { oneTimeContext, type PolicyContext } from './policy-context.js';
import type { OneTimeCodesView } from './policy-results.js';

export interface PreparedOneTimeCode {
  code: string;
  lookup: string;
  secretEnc: Buffer;
}

/** Ten fresh distinct codes with their lookup and encrypted copy (nothing written yet). */
export function prepareOneTimeCodes(ctx: PolicyContext, accountId: number): PreparedOneTimeCode[] {
  const codes = new Set<string>();
  while (codes.size < ONE_TIME_CODES_PER_SET) codes.add(generateOneTimeCode());
  return [...codes].map((code) => ({
    code,
    lookup: codeLookup(ctx.lookupKey, code),
    secretEnc: encryptSecret(ctx.encKey, code, oneTimeContext(accountId)),
  }));
}

/** Inside transaction `tx`: the prepared set replaces every earlier code. */
export async function replaceOneTimeCodes(tx: StoreRepos, accountId: number, prepared: PreparedOneTimeCode[], now: number): Promise<void> {
  await tx.oneTimeCodes.deleteForAccount(accountId);
  for (const p of prepared) {
    await tx.oneTimeCodes.insert({ accountId, lookup: p.lookup, secretEnc: p.secretEnc, createdAt: now });
  }
}

/**
 * Consume an unused one-time code of the account. The keyed HMAC lookup is the verifier (see
 * migrations.ts); the conditional update settles two concurrent uses.
 */
export async function consumeOneTimeCode(ctx: PolicyContext, account: Account, input: string, now: number): Promise<boolean> {
  const code = normalizeOneTimeCode(input);
  if (code === null) return false;
  const row = await ctx.wrapStore(() => ctx.store.oneTimeCodes.findUnusedByLookup(account.id, codeLookup(ctx.lookupKey, code)));
  // Consumed before it counts (a locked database: STORE_BUSY, never an accept).
  return !!row && (await ctx.wrapStore(() => ctx.store.oneTimeCodes.markUsed(row.id, now)));
}

export async function oneTimeCodesShow(ctx: PolicyContext, user: string): Promise<OneTimeCodesView> {
  const a = await ctx.requireOn(user);
  const rows = await ctx.wrapStore(() => ctx.store.oneTimeCodes.listForAccount(a.id));
  const unused = rows.filter((r) => r.usedAt === null).map((r) => decryptSecret(ctx.encKey, r.secretEnc, oneTimeContext(a.id)));
  return { unused, usedCount: rows.length - unused.length };
}

export async function oneTimeCodesRegenerate(ctx: PolicyContext, user: string): Promise<string[]> {
  const a = await ctx.requireOn(user);
  const prepared = prepareOneTimeCodes(ctx, a.id);
  const now = ctx.clock();
  await ctx.tx(async (tx) => {
    const cur = await tx.accounts.findByUsername(a.username);
    if (!cur || cur.id !== a.id || cur.twofaState !== 'on') {
      throw new TwostepError('BAD_STATE', `two-step authentication is not on for ${a.username}`);
    }
    await replaceOneTimeCodes(tx, a.id, prepared, now);
  });
  ctx.audit({ at: now, username: a.username, event: 'otc.regenerate' });
  ctx.notify(a.username, 'one-time-codes-regenerated');
  return prepared.map((p) => p.code);
}
