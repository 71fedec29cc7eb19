import { isTwostepError } from '../core/errors.js';
import { limits, secondFactorLimits as L } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { noteSeenUser } from './effective-policy.js';
import type { PasswordChecker, PasswordVerdict } from './password-checker.js';
import type { PolicyContext } from './policy-context.js';
import { notifyLocked } from './notices.js';
import { secondFactorGate } from './second-factor-gate.js';
import { attemptSource, ipBound, knownSource, noteSource, subjectBound } from './sources.js';
import { hashToken, seenDevice } from './trusted-devices.js';
import { verifySecondFactor } from './totp-enrolment.js';
import { normalizeUsername, usernameProblem } from './username.js';

export interface PortalSignInRequest {
  user: string;
  password: Secret;
  clientIp: string;
  /** The browser's trusted-device token, if it has one ("Trust this computer"). */
  deviceToken?: string;
  /** The browser's own token (a long-lived cookie): a browser the user signed in with before is a known source. */
  browserToken?: string;
  /** "Chrome on Linux": named in the notice of a sign-in from a new browser. */
  browserLabel?: string;
}

export type PortalSignInResult =
  /** secondFactor: 'required' = ask for a code; 'not-needed' = two-step is off; 'trusted-device' = this computer is trusted. */
  | { ok: true; user: string; secondFactor: 'required' | 'not-needed' | 'trusted-device' }
  | { ok: false; reason: 'invalid-credentials' | 'throttled' | 'backend-unavailable'; retryAfterMs?: number };

export type SecondFactorResult =
  /** failedSince: wrong codes entered for the account (from anywhere) since its previous sign-in. */
  | { ok: true; failedSince: number }
  /**
   * 'unavailable': the code could not be recorded as used (database locked): try again in a moment.
   * 'one-time-code-required': too many wrong codes from unknown browsers: only a one-time code now.
   */
  | { ok: false; reason: 'invalid-code' | 'throttled' | 'unavailable' | 'one-time-code-required'; retryAfterMs?: number };

const DAY_MS = 24 * 60 * 60_000;

/** The known-sources entry that keeps the time of the user's latest full portal sign-in. */
const PORTAL_SIGN_IN = 'signin:portal';

/**
 * Web portal sign-in, step one: the user's own password, judged by the mail server. Bounded like a
 * passthrough mail login (login.ts): per source address, and one check reserved under the
 * account's bound for unknown sources, or under the owner's own known source (a network, or this
 * browser) — so a flood of wrong passwords from elsewhere never keeps the owner out. Audited with
 * protocol 'portal'. Step two (a code) is due when the account has two-step authentication on.
 */
export async function portalSignIn(ctx: PolicyContext, checker: PasswordChecker, req: PortalSignInRequest): Promise<PortalSignInResult> {
  const now = ctx.clock();
  const malformed = usernameProblem(req.user) !== null || req.password.length === 0 || req.password.length > limits.secretChars;
  const username = usernameProblem(req.user) === null ? normalizeUsername(req.user) : null;
  const ipKey = ipBound(ctx, req.clientIp);
  const ipRetry = await ctx.guard.verdict(ipKey, now);
  if (ipRetry > 0) return throttled(ctx, ipKey.key, username, req.clientIp, ipRetry, now);
  if (malformed || username === null) return failed(ctx, req.clientIp, username, now, 'malformed');

  const source = attemptSource(req.clientIp, req.browserToken);
  const known = await knownSource(ctx, username, source, now);
  const r = await ctx.guard.reserve(ctx.guard.dedupeKey(username, req.password.reveal()), [subjectBound(ctx, `user:${username}`, known)], now);
  if (!r.ok) return throttled(ctx, r.key, username, req.clientIp, r.retryAfterMs, now);
  let verdict: PasswordVerdict = 'backend-unavailable';
  try {
    verdict = await checker.check(username, req.password, req.clientIp);
  } finally {
    await r.reservation.settle(verdict === 'rejected');
  }
  if (verdict === 'rejected') return failed(ctx, req.clientIp, username, now, 'invalid-credentials');
  if (verdict === 'backend-unavailable') {
    ctx.audit({ at: now, username, event: 'login.error', protocol: 'portal', ip: req.clientIp, detail: { via: 'password', reason: 'backend-unavailable' } });
    return { ok: false, reason: 'backend-unavailable' };
  }
  ctx.audit({ at: ctx.clock(), username, event: 'login.ok', protocol: 'portal', ip: req.clientIp, detail: { via: 'password' } });
  const account = await ctx.readAccount(username);
  if (!account) noteSeenUser(ctx, username); // counted by the rollout if their domain has a policy
  if (account?.twofaState !== 'on') {
    noteSource(ctx, username, source, now, { ip: req.clientIp, browserLabel: req.browserLabel });
    return { ok: true, user: username, secondFactor: 'not-needed' };
  }
  const trusted = req.deviceToken !== undefined && (await isTrustedComputer(ctx, username, req.deviceToken));
  if (!trusted) return { ok: true, user: username, secondFactor: 'required' };
  // The second step skipped: the log says why.
  ctx.audit({ at: ctx.clock(), username, event: '2fa.ok', protocol: 'portal', ip: req.clientIp, detail: { method: 'trusted-device' } });
  noteSource(ctx, username, source, now, { ip: req.clientIp, browserLabel: req.browserLabel });
  return { ok: true, user: username, secondFactor: 'trusted-device' };
}

/**
 * Step two: a current TOTP code or an unused one-time code (see verifySecondFactor), within the
 * escalation of second-factor-gate.ts: wrong codes are counted per account over 30 days, from
 * unknown browsers together and from each browser the owner signed in with before on its own; past
 * a few, each attempt waits longer, and past many only a one-time code is accepted from unknown
 * browsers. A code counts only once its use is written (replay protection): while another process
 * holds the database locked past limits.storeBusyMs the answer is 'unavailable', never an accept.
 */
export async function portalSecondFactor(
  ctx: PolicyContext,
  user: string,
  code: string,
  clientIp: string,
  browserToken?: string,
  browserLabel?: string,
): Promise<SecondFactorResult> {
  const now = ctx.clock();
  const username = usernameProblem(user) === null ? normalizeUsername(user) : null;
  if (username === null) return { ok: false, reason: 'invalid-code' };
  const source = attemptSource(clientIp, browserToken);
  const known = source.browser !== undefined && (await ctx.store.knownSources.has(username, source.browser, now - limits.knownSourceMs));
  const key = known ? `2fa:${username}|${source.browser}` : `2fa:${username}`;
  const history = await ctx.guard.history(key, now - L.secondFactorWindowMs, now);
  const gate = secondFactorGate({ failures: history.failures, lastFailureAt: history.newest }, now);
  if (gate.waitMs > 0) {
    if (ctx.firstRefusal(key, now + gate.waitMs)) {
      ctx.audit({ at: now, username, event: '2fa.throttled', protocol: 'portal', ip: clientIp, detail: { failures: history.failures, waitMs: gate.waitMs } });
      notifyLocked(ctx, username, { protocol: 'portal', ip: clientIp, retryAfterMs: gate.waitMs });
    }
    return { ok: false, reason: 'throttled', retryAfterMs: gate.waitMs };
  }
  const totpShaped = /^[0-9]{6}$/.test(code.replace(/[\s-]/g, ''));
  if (totpShaped && !gate.totp) {
    if (ctx.firstRefusal(`${key}|totp-off`, 0)) {
      ctx.audit({ at: now, username, event: '2fa.locked', protocol: 'portal', ip: clientIp, detail: { failures: history.failures } });
    }
    await ctx.guard.fail([key], now);
    await delay(ctx);
    return { ok: false, reason: 'one-time-code-required' };
  }
  let ok = false;
  try {
    ok = await verifySecondFactor(ctx, username, code, { protocol: 'portal', ip: clientIp });
  } catch (err) {
    if (!isTwostepError(err, 'STORE_BUSY')) throw err;
    ctx.audit({ at: now, username, event: '2fa.error', protocol: 'portal', ip: clientIp, detail: { reason: 'store-busy' } });
    return { ok: false, reason: 'unavailable' };
  }
  if (!ok) {
    await ctx.guard.fail([key], now);
    await delay(ctx);
    return { ok: false, reason: 'invalid-code' };
  }
  const failedSince = await failuresSinceLastSignIn(ctx, username, now);
  noteSource(ctx, username, source, now, { ip: clientIp, browserLabel });
  ctx.store.later({ kind: 'source-seen', username, source: PORTAL_SIGN_IN, at: now });
  return { ok: true, failedSince };
}

/** Wrong codes for the account (every class of source) since its previous full portal sign-in, within the window. */
async function failuresSinceLastSignIn(ctx: PolicyContext, username: string, now: number): Promise<number> {
  const last = await ctx.store.knownSources.lastAt(username, PORTAL_SIGN_IN);
  const since = Math.max(last ?? 0, now - L.secondFactorWindowMs);
  const unknown = await ctx.guard.history(`2fa:${username}`, since, now);
  return unknown.failures;
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
export async function revokeThisDevice(ctx: PolicyContext, user: string, token: string, sessionToken?: string): Promise<boolean> {
  const a = await ctx.requireAccount(user);
  const now = ctx.clock();
  const tokenHash = hashToken(token);
  const revoked = await ctx.tx(async (tx) => {
    const d = await tx.trustedDevices.findActive(a.id, tokenHash);
    if (!d || !(await tx.trustedDevices.revoke(d.id, now))) return false;
    // Other sessions this device's trust opened end; the one asking stays signed in.
    await tx.webSessions.deleteForDevices([d.id], sessionToken === undefined ? undefined : hashToken(sessionToken));
    return true;
  });
  ctx.audit({ at: now, username: a.username, event: 'device.revoke', detail: { count: revoked ? 1 : 0, thisDevice: true } });
  return revoked;
}

/** The id of the user's active trusted device holding `token`, if any (it opened a session by skipping the code). */
export async function trustedDeviceId(ctx: PolicyContext, user: string, token: string): Promise<number | undefined> {
  const a = await ctx.readAccount(normalizeUsername(user));
  if (!a) return undefined;
  return (await ctx.wrapStore(() => ctx.store.trustedDevices.findActive(a.id, hashToken(token))))?.id;
}

function throttled(ctx: PolicyContext, key: string, username: string | null, ip: string, retryAfterMs: number, now: number): PortalSignInResult {
  if (ctx.firstRefusal(key, now + retryAfterMs)) {
    ctx.audit({ at: now, username, event: 'login.throttled', protocol: 'portal', ip, detail: { bound: key.split(':')[0], retryAfterMs } });
    if (username !== null && key.startsWith('user:')) notifyLocked(ctx, username, { protocol: 'portal', ip, retryAfterMs });
  }
  return { ok: false, reason: 'throttled', retryAfterMs };
}

async function failed(
  ctx: PolicyContext,
  ip: string,
  username: string | null,
  now: number,
  reason: 'invalid-credentials' | 'malformed',
): Promise<PortalSignInResult> {
  await ctx.guard.fail([ipBound(ctx, ip).key], now);
  ctx.audit({ at: now, username, event: 'login.fail', protocol: 'portal', ip, detail: { via: 'password', reason } });
  await delay(ctx);
  return { ok: false, reason: 'invalid-credentials' };
}

/** The same pause before a refusal as for IMAP ([auth] failure_delay_ms). */
async function delay(ctx: PolicyContext): Promise<void> {
  const ms = ctx.config.auth.failure_delay_ms;
  if (ms > 0) await ctx.sleep(ms);
}
