import { TwostepError } from '../core/errors.js';
import { decryptSecret, encryptSecret } from '../crypto/secret-box.js';
import { generateTotpKey, matchTotp, totpUri } from '../crypto/totp.js';
import { accountOrFollower } from './effective-policy.js';
import { consumeOneTimeCode, prepareOneTimeCodes, replaceOneTimeCodes } from './one-time-codes.js';
import { totpContext, type PolicyContext } from './policy-context.js';
import type { TotpEnrollment } from './policy-results.js';
import type { Protocol } from './types.js';
import { normalizeUsername, usernameProblem } from './username.js';

export async function totpEnroll(ctx: PolicyContext, user: string): Promise<TotpEnrollment> {
  const username = ctx.adminUsername(user);
  const now = ctx.clock();
  const key = generateTotpKey();
  const account = await ctx.tx(async (tx) => {
    // A user without an account yet may enrol when their domain's policy allows it.
    const a = await accountOrFollower(tx, username, now);
    if (!a || a.adminPolicy === 'disallowed') {
      throw new TwostepError('USER_NOT_ALLOWED', `two-step authentication is not allowed for ${username}`);
    }
    if (a.twofaState === 'on') {
      throw new TwostepError('BAD_STATE', `two-step authentication is already on for ${username}; disable it first`);
    }
    await tx.accounts.setTotpPending(a.id, encryptSecret(ctx.encKey, key, totpContext(a.id)), now);
    return a;
  });
  ctx.audit({ at: now, username: account.username, event: 'totp.enroll' });
  return { key, uri: totpUri(ctx.config.totp.issuer, account.username, key) };
}

export async function totpConfirm(ctx: PolicyContext, user: string, code: string): Promise<{ oneTimeCodes: string[] }> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  if (a.twofaState !== 'pending' || !a.totpSecretEnc) {
    throw new TwostepError('BAD_STATE', `no enrolment is pending for ${a.username}; run enroll first`);
  }
  // Only the user (signed in to the portal) or an admin (the CLI) gets here: a plain bound per
  // account is enough, no one else can use it up.
  const bound = { key: `enrol:${a.username}`, limit: ctx.config.auth.user_failures, windowMs: ctx.config.auth.failure_window_seconds * 1000 };
  const wait = await ctx.guard.verdict(bound, now);
  if (wait > 0) throw new TwostepError('LIMIT_REACHED', `too many failed attempts; retry in ${Math.ceil(wait / 1000)} s`);
  const key = decryptSecret(ctx.encKey, a.totpSecretEnc, totpContext(a.id));
  const step = matchTotp(key, code, now);
  if (step === null) {
    await ctx.guard.fail([bound.key], now);
    ctx.audit({ at: now, username: a.username, event: 'totp.confirm.fail' });
    throw new TwostepError('INVALID_CODE', 'the code does not match; check the key and the phone clock');
  }
  const prepared = prepareOneTimeCodes(ctx, a.id);
  const pendingBlob = a.totpSecretEnc;
  await ctx.tx(async (tx) => {
    const cur = await tx.accounts.findByUsername(a.username);
    // Re-check under the write lock: a concurrent re-enroll, disable or disallow (of the user or
    // of the domain it follows) wins.
    if (!cur || cur.id !== a.id || cur.twofaState !== 'pending' || cur.adminPolicy === 'disallowed' || !cur.totpSecretEnc?.equals(pendingBlob)) {
      throw new TwostepError('BAD_STATE', `enrolment for ${a.username} changed meanwhile; start again`);
    }
    await tx.accounts.setTwofaOn(a.id, step, now);
    await replaceOneTimeCodes(tx, a.id, prepared, now);
  });
  ctx.audit({ at: now, username: a.username, event: 'totp.confirm' });
  ctx.notify(a.username, 'two-step-on');
  return { oneTimeCodes: prepared.map((p) => p.code) };
}

/**
 * A current TOTP code (each step accepted once) or an unused one-time code (consumed). `origin`
 * (front end and client address) goes into the audit events, so the log can be filtered by them.
 * The caller bounds the attempts (portal-sign-in.ts: the second-factor escalation).
 */
export async function verifySecondFactor(
  ctx: PolicyContext,
  user: string,
  code: string,
  origin?: { protocol: Protocol; ip: string },
): Promise<boolean> {
  const now = ctx.clock();
  const from = origin === undefined ? {} : { protocol: origin.protocol, ip: origin.ip };
  if (usernameProblem(user) !== null || code.length > 64) return false;
  const a = await ctx.readAccount(normalizeUsername(user));
  if (!a || a.twofaState !== 'on' || !a.totpSecretEnc) return false;
  let method: 'totp' | 'one-time-code' | null = null;
  if (/^[0-9]{6}$/.test(code.replace(/[\s-]/g, ''))) {
    const key = decryptSecret(ctx.encKey, a.totpSecretEnc, totpContext(a.id));
    const step = matchTotp(key, code, now);
    // advanceTotpStep is atomic: a replayed or older step is refused even across processes. It
    // must be written before the code counts (a locked database: STORE_BUSY, never an accept).
    if (step !== null && (await ctx.wrapStore(() => ctx.store.accounts.advanceTotpStep(a.id, step, now)))) method = 'totp';
  } else if (await consumeOneTimeCode(ctx, a, code, now)) {
    method = 'one-time-code';
  }
  if (method === null) {
    ctx.audit({ at: now, username: a.username, event: '2fa.fail', ...from });
    return false;
  }
  ctx.audit({ at: now, username: a.username, event: '2fa.ok', ...from, detail: { method } });
  if (method === 'one-time-code' && ctx.notifies('one-time-code-used')) {
    const left = await ctx.wrapStore(() => ctx.store.oneTimeCodes.countUnused(a.id)).catch(() => null);
    ctx.notify(a.username, 'one-time-code-used', { ...from, ...(left === null ? {} : { left }) });
  }
  return true;
}
