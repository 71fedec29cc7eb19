import { isTwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import type { PasswordChecker, PasswordVerdict } from './password-checker.js';
import type { PolicyContext } from './policy-context.js';
import { hashToken, seenDevice } from './trusted-devices.js';
import { verifySecondFactor } from './totp-enrolment.js';
import { normalizeUsername, usernameProblem } from './username.js';

export interface PortalSignInRequest {
  user: string;
  password: Secret;
  clientIp: string;
  /** The browser's trusted-device token, if it has one ("Trust this computer"). */
  deviceToken?: string;
}

export type PortalSignInResult =
  /** secondFactor: 'required' = ask for a code; 'not-needed' = two-step is off; 'trusted-device' = this computer is trusted. */
  | { ok: true; user: string; secondFactor: 'required' | 'not-needed' | 'trusted-device' }
  | { ok: false; reason: 'invalid-credentials' | 'throttled' | 'backend-unavailable'; retryAfterMs?: number };

export type SecondFactorResult =
  | { ok: true }
  /** 'unavailable': the code could not be recorded as used (database locked): try again in a moment. */
  | { ok: false; reason: 'invalid-code' | 'throttled' | 'unavailable'; retryAfterMs?: number };

const DAY_MS = 24 * 60 * 60_000;

/**
 * Web portal sign-in, step one: the user's own password, judged by the mail server. Throttled and
 * audited like an IMAP login (same per-IP and per-user counters, protocol 'portal', same failure
 * delay). Step two (a code) is due when the account has two-step authentication on.
 */
export async function portalSignIn(ctx: PolicyContext, checker: PasswordChecker, req: PortalSignInRequest): Promise<PortalSignInResult> {
  const now = ctx.clock();
  const malformed = usernameProblem(req.user) !== null || req.password.length === 0 || req.password.length > limits.secretChars;
  const username = usernameProblem(req.user) === null ? normalizeUsername(req.user) : null;
  const throttled = throttleVerdict(ctx, req.clientIp, username, now);
  if (throttled > 0) return { ok: false, reason: 'throttled', retryAfterMs: throttled };
  if (malformed || username === null) return failed(ctx, req.clientIp, username, now, 'malformed');

  // In flight, this attempt counts against both budgets: a burst of parallel guesses gets no more
  // mail-server checks than the throttle allows in a row.
  const releaseIp = ctx.ipThrottle.hold(req.clientIp);
  const releaseUser = ctx.userThrottle.hold(username);
  let verdict: PasswordVerdict;
  try {
    verdict = await checker.check(username, req.password, req.clientIp);
  } finally {
    releaseIp();
    releaseUser();
  }
  if (verdict === 'rejected') return failed(ctx, req.clientIp, username, now, 'invalid-credentials');
  if (verdict === 'backend-unavailable') {
    ctx.audit({ at: now, username, event: 'login.error', protocol: 'portal', ip: req.clientIp, detail: { via: 'password', reason: 'backend-unavailable' } });
    return { ok: false, reason: 'backend-unavailable' };
  }
  ctx.audit({ at: ctx.clock(), username, event: 'login.ok', protocol: 'portal', ip: req.clientIp, detail: { via: 'password' } });
  const account = await ctx.readAccount(username);
  if (account?.twofaState !== 'on') return { ok: true, user: username, secondFactor: 'not-needed' };
  const trusted = req.deviceToken !== undefined && (await isTrustedComputer(ctx, username, req.deviceToken));
  // The second step skipped: the log says why.
  if (trusted) ctx.audit({ at: ctx.clock(), username, event: '2fa.ok', protocol: 'portal', ip: req.clientIp, detail: { method: 'trusted-device' } });
  return { ok: true, user: username, secondFactor: trusted ? 'trusted-device' : 'required' };
}

/**
 * Step two: a current TOTP code or an unused one-time code (see verifySecondFactor). A code counts
 * only once its use is written (replay protection): while another process holds the database
 * locked past limits.storeBusyMs the answer is 'unavailable', never an accept without the write.
 */
export async function portalSecondFactor(ctx: PolicyContext, user: string, code: string, clientIp: string): Promise<SecondFactorResult> {
  const now = ctx.clock();
  const username = usernameProblem(user) === null ? normalizeUsername(user) : null;
  const throttled = throttleVerdict(ctx, clientIp, username, now);
  if (throttled > 0) return { ok: false, reason: 'throttled', retryAfterMs: throttled };
  let ok = false;
  try {
    ok = username !== null && (await verifySecondFactor(ctx, username, code, { protocol: 'portal', ip: clientIp }));
  } catch (err) {
    if (!isTwostepError(err, 'STORE_BUSY')) throw err;
    ctx.audit({ at: now, username, event: '2fa.error', protocol: 'portal', ip: clientIp, detail: { reason: 'store-busy' } });
    return { ok: false, reason: 'unavailable' };
  }
  if (ok) return { ok: true };
  // verifySecondFactor counted the user's failure; the IP's is counted here.
  ctx.ipThrottle.record(clientIp, now);
  await delay(ctx);
  return { ok: false, reason: 'invalid-code' };
}

/** True when `token` is an active trusted device of the user, trusted less than [portal] trusted_device_days ago. */
export async function isTrustedComputer(ctx: PolicyContext, user: string, token: string): Promise<boolean> {
  if (usernameProblem(user) !== null || token.length === 0 || token.length > 256) return false;
  const a = await ctx.readAccount(normalizeUsername(user));
  if (!a || a.twofaState !== 'on') return false;
  const days = ctx.config.portal?.trusted_device_days ?? 30;
  const d = await ctx.wrapStore(() => ctx.store.trustedDevices.findActive(a.id, hashToken(token)));
  if (!d || d.createdAt <= ctx.clock() - days * DAY_MS) return false;
  seenDevice(ctx, d.id);
  return true;
}

/** "revoke this device": only the device holding `token` (the web browser asking). */
export async function revokeThisDevice(ctx: PolicyContext, user: string, token: string): Promise<boolean> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  const tokenHash = hashToken(token);
  const revoked = await ctx.tx(async (tx) => {
    const d = await tx.trustedDevices.findActive(a.id, tokenHash);
    return d ? tx.trustedDevices.revoke(d.id, now) : false;
  });
  ctx.audit({ at: now, username: a.username, event: 'device.revoke', detail: { count: revoked ? 1 : 0, thisDevice: true } });
  return revoked;
}

function throttleVerdict(ctx: PolicyContext, ip: string, username: string | null, now: number): number {
  const ipV = ctx.ipThrottle.check(ip, now);
  const userV = username === null ? { retryAfterMs: 0, firstRefusal: false } : ctx.userThrottle.check(username, now);
  const retryAfterMs = Math.max(ipV.retryAfterMs, userV.retryAfterMs);
  if (retryAfterMs > 0 && (ipV.firstRefusal || userV.firstRefusal)) {
    ctx.audit({ at: now, username, event: 'login.throttled', protocol: 'portal', ip, detail: { retryAfterMs } });
  }
  return retryAfterMs;
}

async function failed(
  ctx: PolicyContext,
  ip: string,
  username: string | null,
  now: number,
  reason: 'invalid-credentials' | 'malformed',
): Promise<PortalSignInResult> {
  ctx.ipThrottle.record(ip, now);
  if (username !== null) ctx.userThrottle.record(username, now);
  ctx.audit({ at: now, username, event: 'login.fail', protocol: 'portal', ip, detail: { via: 'password', reason } });
  await delay(ctx);
  return { ok: false, reason: 'invalid-credentials' };
}

/** The same pause before a refusal as for IMAP ([auth] failure_delay_ms). */
async function delay(ctx: PolicyContext): Promise<void> {
  const ms = ctx.config.auth.failure_delay_ms;
  if (ms > 0) await ctx.sleep(ms);
}
