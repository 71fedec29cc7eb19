import { limits } from '../core/limits.js';
import { normalizeAppCode } from '../crypto/app-code.js';
import { codeLookup } from '../crypto/derive-keys.js';
import { loginGate } from './login-gate.js';
import type { PolicyContext } from './policy-context.js';
import type { VerifiedCredential } from './verified-credential-cache.js';
import type { AuthDecision, AuthRequest, FailReason, PassthroughHandle } from './types.js';
import { normalizeUsername, usernameProblem } from './username.js';

/**
 * The login rule (see Policy.authenticate). Like Dovecot's auth_failure_delay, a refusal is not
 * answered before [auth] failure_delay_ms have passed since the attempt began: it slows guessing on
 * one connection, and every refusal takes the same time whatever was checked (nothing, argon2, or
 * the backend for a passthrough password: see PassthroughHandle.settle), so timing tells no one
 * which accounts use two-step authentication. TLS-required and backend faults are answered at
 * once: they are no guess.
 */
export async function authenticate(ctx: PolicyContext, req: AuthRequest): Promise<AuthDecision> {
  const started = ctx.clock();
  const decision = await decide(ctx, req, started);
  if (!decision.ok && decision.reason !== 'tls-required' && decision.reason !== 'backend-unavailable') {
    await failureDelay(ctx, started);
  }
  return decision;
}

/** Waits until [auth] failure_delay_ms after `started`. */
async function failureDelay(ctx: PolicyContext, started: number): Promise<void> {
  const ms = ctx.config.auth.failure_delay_ms - (ctx.clock() - started);
  if (ms > 0) await ctx.sleep(ms);
}

async function decide(ctx: PolicyContext, req: AuthRequest, now: number): Promise<AuthDecision> {
  const secret = req.secret.reveal();

  const refused = loginGate(req, ctx.config.auth.allow_plaintext); // the front ends' rule too
  const username = usernameProblem(req.user) === null ? normalizeUsername(req.user) : null;
  if (refused || username === null) return fail(ctx, req, username, refused ?? 'malformed', now);

  const ipV = ctx.ipThrottle.check(req.clientIp, now);
  const userV = ctx.userThrottle.check(username, now);
  const retryAfterMs = Math.max(ipV.retryAfterMs, userV.retryAfterMs);
  if (retryAfterMs > 0) {
    log(ctx, 'login.throttled', req, username, { reason: 'throttled', retryAfterMs });
    // Refusals are not counted; only the first one of a lockout is audited (no write amplification).
    if (ipV.firstRefusal || userV.firstRefusal) {
      ctx.audit({ at: now, username, event: 'login.throttled', protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, { retryAfterMs }) });
    }
    return { ok: false, reason: 'throttled', retryAfterMs };
  }

  if (req.authzid !== undefined && req.authzid !== '' && normalizeUsername(req.authzid) !== username) {
    return fail(ctx, req, username, 'invalid-credentials', now, { why: 'authzid-mismatch' });
  }

  // From here the verdict is pending (argon2, or the backend judging a passthrough password).
  const release = holdAttempt(ctx, username, now);
  if (!release) {
    log(ctx, 'login.throttled', req, username, { reason: 'throttled', why: 'in-flight' });
    return { ok: false, reason: 'throttled', retryAfterMs: 1_000 };
  }
  let account;
  try {
    account = await ctx.readAccount(username);
  } catch (err) {
    release();
    throw err;
  }
  if (!account || account.twofaState !== 'on') {
    // No two-step for this account: the backend judges the user's own password; settle() releases
    // the hold (or its deadline does, when the client left before the backend answered).
    return { ok: true, via: 'passthrough', user: req.user.trim(), passthrough: passthroughHandle(ctx, req, now, release) };
  }

  const code = normalizeAppCode(secret);
  if (code === null) {
    // Not shaped like an application code (e.g. the main password): refuse without hashing.
    release();
    return fail(ctx, req, username, 'app-code-required', now, { why: 'not-an-app-code' });
  }
  let verified: Verified;
  try {
    verified = await verifyCode(ctx, account.id, username, code);
  } finally {
    release();
  }
  if (!verified.ok) return fail(ctx, req, username, 'app-code-required', verified.at, verified.detail);
  const row = verified.code;
  const at = ctx.clock();
  // Last Used is queued, not written here: the store's write-behind queue writes it in a batch.
  ctx.store.later({ kind: 'app-code-used', codeId: row.codeId, use: { at, ip: req.clientIp, protocol: req.protocol, client: req.clientName ?? null } });
  log(ctx, 'login.ok', req, account.username, { via: 'app-code', codeName: row.codeName, cached: verified.cached });
  ctx.audit({
    at,
    username: account.username,
    event: 'login.ok',
    protocol: req.protocol,
    ip: req.clientIp,
    detail: loginDetail(req, { via: 'app-code', codeId: row.codeId, codeName: row.codeName }),
  });
  return { ok: true, via: 'app-code', user: account.username, codeId: row.codeId, codeName: row.codeName };
}

type Verified =
  | { ok: true; code: VerifiedCredential; cached: boolean }
  | { ok: false; at: number; detail: Record<string, unknown> };

/**
 * Is `code` an active application code of this account? At most one argon2 verification, none
 * when this process verified the same (user, code) within [auth] login_cache_seconds, and one for
 * all when several connections present it at once (a mail app opens a few in parallel); either
 * way the code row is checked in the database last (one lookup by primary key), so a revoke or a
 * disable made by any process, even during argon2, is honoured.
 */
async function verifyCode(ctx: PolicyContext, accountId: number, username: string, code: string): Promise<Verified> {
  const hit = ctx.verified.get(username, code, ctx.clock());
  if (hit && hit.accountId === accountId) {
    if (await stillValid(ctx, hit.codeId)) return { ok: true, code: hit, cached: true };
    ctx.verified.invalidateCode(hit.codeId);
    return { ok: false, at: ctx.clock(), detail: { why: 'revoked', codeName: hit.codeName } };
  }
  const checked = await ctx.verified.once(username, code, () => checkHash(ctx, accountId, code));
  if (!checked.ok) return { ok: false, at: ctx.clock(), detail: checked.detail };
  const v = checked.code;
  if (v.accountId !== accountId || !(await stillValid(ctx, v.codeId))) {
    // Revoked (or two-step turned off, or the account replaced) while argon2 ran.
    return { ok: false, at: ctx.clock(), detail: { why: 'revoked', codeName: v.codeName } };
  }
  ctx.verified.put(username, code, v, ctx.clock());
  return { ok: true, code: v, cached: false };
}

type Checked = { ok: true; code: VerifiedCredential } | { ok: false; detail: Record<string, unknown> };

/** The one argon2 verification: the code's row by its lookup HMAC, then its hash. */
async function checkHash(ctx: PolicyContext, accountId: number, code: string): Promise<Checked> {
  const row = await ctx.wrapStore(() => ctx.store.appCodes.findActiveByLookup(accountId, codeLookup(ctx.lookupKey, code)));
  if (!row) {
    await ctx.hasher.verify(await ctx.dummyHash(), code); // same cost as a real check
    return { ok: false, detail: { why: 'unknown-code' } };
  }
  if (!(await ctx.hasher.verify(row.hash, code))) return { ok: false, detail: { why: 'hash-mismatch' } };
  return { ok: true, code: { accountId, codeId: row.id, codeName: row.name } };
}

/** The code row is active and its account's two-step authentication is on. */
async function stillValid(ctx: PolicyContext, codeId: number): Promise<boolean> {
  return (await ctx.wrapStore(() => ctx.store.appCodes.stillValidAmong([codeId]))).length === 1;
}

/**
 * Counts one login awaiting its verdict, per user, so parallel attempts cannot outrun the
 * throttle (it counts failures only once they are known):
 * - at most limits.userLoginsInFlight at once for one user (a mail app opens a few connections
 *   together, several devices more; a parallel guessing burst is cut there);
 * - once the user has a failure in the window, each attempt in flight also counts as a failure
 *   until its verdict (FailureThrottle.hold), so after the first wrong password no burst gets
 *   more checks than user_failures. Never against the IP's throttle: behind carrier-grade NAT
 *   many users log in from one address at the same moment.
 * Returns the release (idempotent; limits.pendingAttemptMs ends it should no verdict ever come,
 * e.g. the client left), or null when the user has too many logins in flight.
 */
function holdAttempt(ctx: PolicyContext, username: string, now: number): (() => void) | null {
  const inFlight = ctx.userLoginsInFlight.get(username) ?? 0;
  if (inFlight >= limits.userLoginsInFlight) return null;
  ctx.userLoginsInFlight.set(username, inFlight + 1);
  // (decide() checked failures + held against user_failures just before.)
  const releaseHold = ctx.userThrottle.failures(username, now) > 0 ? ctx.userThrottle.hold(username) : () => {};
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    clearTimeout(timer);
    releaseHold();
    releaseInFlight(ctx, username);
  };
  const timer = setTimeout(release, limits.pendingAttemptMs);
  timer.unref();
  return release;
}

function releaseInFlight(ctx: PolicyContext, username: string): void {
  const n = (ctx.userLoginsInFlight.get(username) ?? 1) - 1;
  if (n <= 0) ctx.userLoginsInFlight.delete(username);
  else ctx.userLoginsInFlight.set(username, n);
}

/**
 * The handle of a passthrough decision: its settle() releases the throttle hold, counts a rejection
 * towards throttling, audits every outcome, and delays the answer to a refusal like any other.
 */
function passthroughHandle(ctx: PolicyContext, req: AuthRequest, started: number, release: () => void): PassthroughHandle {
  let settled = false;
  return {
    settle: async (outcome) => {
      if (settled) return;
      settled = true;
      release();
      const now = ctx.clock();
      const username = normalizeUsername(req.user);
      if (outcome === 'rejected') {
        fail(ctx, req, username, 'invalid-credentials', now, { via: 'passthrough' });
        await failureDelay(ctx, started);
        return;
      }
      const event = outcome === 'ok' ? 'login.ok' : 'login.error';
      const extra = outcome === 'ok' ? { via: 'passthrough' } : { via: 'passthrough', reason: 'backend-unavailable' };
      log(ctx, event, req, username, extra);
      ctx.audit({ at: now, username, event, protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, extra) });
    },
  };
}

/** Count the failure (IP and user), log and audit it, and return the decision. */
function fail(
  ctx: PolicyContext,
  req: AuthRequest,
  username: string | null,
  reason: FailReason,
  now: number,
  extra: Record<string, unknown> = {},
): AuthDecision {
  ctx.ipThrottle.record(req.clientIp, now);
  if (username !== null) ctx.userThrottle.record(username, now);
  log(ctx, 'login.fail', req, username, { reason, ...extra });
  ctx.audit({ at: now, username, event: 'login.fail', protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, { reason, ...extra }) });
  return { ok: false, reason };
}

/** Audit detail of a login: never the secret, only what identifies the attempt. */
function loginDetail(req: AuthRequest, extra: Record<string, unknown>): Record<string, unknown> {
  const d: Record<string, unknown> = { ...extra, mechanism: req.mechanism.slice(0, 32), cid: req.cid, tls: req.tls };
  if (req.clientName) d.client = req.clientName.slice(0, limits.clientNameChars);
  return d;
}

/**
 * Debug level: the front end logs the login's outcome once (event 'login', after the backend
 * answered); the audit trail keeps the policy's record. This line adds the policy's own detail.
 */
function log(ctx: PolicyContext, event: string, req: AuthRequest, user: string | null, extra: Record<string, unknown>): void {
  if (!ctx.logger.isLevelEnabled('debug')) return; // no object built for a line that is off
  ctx.logger.debug({ event, cid: req.cid, proto: req.protocol, user, ip: req.clientIp, ...extra }, event);
}
