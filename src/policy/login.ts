import { limits } from '../core/limits.js';
import { normalizeAppCode } from '../crypto/app-code.js';
import { codeLookup } from '../crypto/derive-keys.js';
import { noteSeenUser } from './effective-policy.js';
import { loginGate } from './login-gate.js';
import type { PolicyContext } from './policy-context.js';
import type { VerifiedCredential } from './verified-credential-cache.js';
import type { Account } from '../store/types.js';
import type { Reservation } from './attempt-guard.js';
import { codeRefusal } from './code-limits.js';
import { attemptSource, ipBound, knownSource, noteCodeNetwork, noteSource, subjectBound } from './sources.js';
import type { AuthDecision, AuthRequest, FailReason, PassthroughHandle } from './types.js';
import { isMasterSpelling, normalizeUsername, usernameProblem } from './username.js';
import { notifyLocked } from './notices.js';

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
  if (!decision.ok && decision.reason !== 'tls-required' && decision.reason !== 'backend-unavailable' && req.origin !== 'passdb') {
    await failureDelay(ctx, started);
  }
  return decision;
}

/** Waits until [auth] failure_delay_ms after `started`, or as long as the mail server usually takes to refuse. */
async function failureDelay(ctx: PolicyContext, started: number): Promise<void> {
  const ms = ctx.refusalTiming.target(ctx.config.auth.failure_delay_ms) - (ctx.clock() - started);
  if (ms > 0) await ctx.sleep(ms);
}

async function decide(ctx: PolicyContext, req: AuthRequest, now: number): Promise<AuthDecision> {
  const secret = req.secret.reveal();

  // The front ends' rule too (login-gate.ts); Dovecot's passdb decides over plaintext itself.
  const refused = loginGate(req, ctx.config.auth.allow_plaintext || req.origin === 'passdb');
  const username = usernameProblem(req.user) === null ? normalizeUsername(req.user) : null;
  if (refused || username === null) return fail(ctx, req, username, refused ?? 'malformed', now);
  // The master login is twostep's alone: "alice*proxymaster" or the master user's own name never
  // reaches Dovecot (nor becomes a throttle key of its own).
  if (isMasterSpelling(req.user, ctx.config.backend) || (req.authzid && isMasterSpelling(req.authzid, ctx.config.backend))) {
    return fail(ctx, req, null, 'invalid-credentials', now, { why: 'master-user-spelling' });
  }
  if (req.authzid !== undefined && req.authzid !== '' && normalizeUsername(req.authzid) !== username) {
    return fail(ctx, req, username, 'invalid-credentials', now, { why: 'authzid-mismatch' });
  }

  // A repeated application code (a hit of the login cache): its row's check runs alongside the
  // account's read, one round trip instead of two on PostgreSQL; used only if two-step is on.
  const pre = prefetchStillValid(ctx, username, secret, now);
  const account = await ctx.readAccount(username);
  if (account?.twofaState === 'on') return appCodeLogin(ctx, req, account, secret, now, pre);
  // Dovecot's Lua passdb asks: "not mine", Dovecot's own passdb judges (and bounds guessing with
  // its auth penalty); twostep never hears that verdict, so it reserves nothing.
  if (req.origin === 'passdb') return { ok: true, via: 'passthrough', user: req.user.trim(), passthrough: DELEGATED };

  // No two-step for this account: the backend judges the user's own password, a guessable one.
  // The source's bound first (no check at all from a source over it), then one check reserved
  // under the account's bound: the strangers' one, or the owner's known source's own.
  const ipRetry = await ctx.guard.verdict(ipBound(ctx, req.clientIp), now);
  if (ipRetry > 0) return throttled(ctx, req, username, `ip:${req.clientIp}`, ipRetry, now);
  const source = attemptSource(req.clientIp);
  const known = await knownSource(ctx, username, source, now);
  const r = await ctx.guard.reserve(ctx.guard.dedupeKey(username, secret), [subjectBound(ctx, `user:${username}`, known)], now);
  if (!r.ok) return throttled(ctx, req, username, r.key, r.retryAfterMs, now);
  return { ok: true, via: 'passthrough', user: req.user.trim(), passthrough: passthroughHandle(ctx, req, now, r.reservation, account === undefined) };
}

/** The handle of a decision Dovecot's own passdb judges: nothing to settle. */
const DELEGATED: PassthroughHandle = { settle: async () => {} };

/**
 * A two-step account: only an active application code. Codes are unguessable (16 letters) and a
 * wrong one costs no argon2 (its lookup HMAC finds no row), so no bound stands between a valid code
 * and its owner, whatever others send: a valid code is accepted even from a throttled address. A
 * refusal counts against the source's bound only (the main password is never checked).
 */
async function appCodeLogin(ctx: PolicyContext, req: AuthRequest, account: Account, secret: string, now: number, pre?: Prefetched): Promise<AuthDecision> {
  const code = normalizeAppCode(secret);
  const verified: Verified =
    code === null
      ? { ok: false, at: now, detail: { why: 'not-an-app-code' } } // e.g. the main password: refused unchecked
      : await verifyCode(ctx, account.id, account.username, code, pre);
  if (!verified.ok) {
    const ipRetry = await ctx.guard.verdict(ipBound(ctx, req.clientIp), now);
    if (ipRetry > 0) return throttled(ctx, req, account.username, `ip:${req.clientIp}`, ipRetry, now);
    return fail(ctx, req, account.username, 'app-code-required', verified.at, verified.detail);
  }
  const row = verified.code;
  const at = ctx.clock();
  // A code limited to other protocols, or past its expiry, is refused like a wrong one; the
  // audit says why.
  const why = codeRefusal(row, req.protocol, at);
  if (why !== null) return fail(ctx, req, account.username, 'app-code-required', at, { why, codeName: row.codeName });
  // Last Used, the audit event and the source are queued, not written here (write-behind).
  ctx.store.later({ kind: 'app-code-used', codeId: row.codeId, use: { at, ip: req.clientIp, protocol: req.protocol, client: req.clientName ?? null } });
  const source = attemptSource(req.clientIp);
  noteSource(ctx, account.username, source, at);
  noteCodeNetwork(ctx, account.username, row, source, req, at);
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

/** A refusal by a guessing bound: logged, audited once per lockout of the key, not counted. */
function throttled(ctx: PolicyContext, req: AuthRequest, username: string | null, key: string, retryAfterMs: number, now: number): AuthDecision {
  log(ctx, 'login.throttled', req, username, { reason: 'throttled', bound: key.split(':')[0], retryAfterMs });
  if (ctx.firstRefusal(key, now + retryAfterMs)) {
    ctx.audit({ at: now, username, event: 'login.throttled', protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, { bound: key.split(':')[0], retryAfterMs }) });
    if (username !== null && key.startsWith('user:')) notifyLocked(ctx, username, { protocol: req.protocol, ip: req.clientIp, retryAfterMs });
  }
  return { ok: false, reason: 'throttled', retryAfterMs };
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
async function verifyCode(ctx: PolicyContext, accountId: number, username: string, code: string, pre?: Prefetched): Promise<Verified> {
  const hit = ctx.verified.get(username, code, ctx.clock());
  if (hit && hit.accountId === accountId) {
    if (await (pre?.codeId === hit.codeId ? pre.valid : stillValid(ctx, hit.codeId))) return { ok: true, code: hit, cached: true };
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
  // No row: not a code of this account; refused without argon2 (the failure delay evens out the
  // time of every refusal).
  if (!row) return { ok: false, detail: { why: 'unknown-code' } };
  if (!(await ctx.hasher.verify(row.hash, code))) return { ok: false, detail: { why: 'hash-mismatch' } };
  return { ok: true, code: { accountId, codeId: row.id, codeName: row.name, scopes: row.scopes, expiresAt: row.expiresAt } };
}

/** The check of a cached code's row, started before the account was read. */
interface Prefetched {
  codeId: number;
  valid: Promise<boolean>;
}

function prefetchStillValid(ctx: PolicyContext, username: string, secret: string, now: number): Prefetched | undefined {
  const code = normalizeAppCode(secret);
  const hit = code === null ? undefined : ctx.verified.get(username, code, now);
  if (!hit) return undefined;
  const valid = stillValid(ctx, hit.codeId);
  valid.catch(() => {}); // awaited only when the account has two-step on
  return { codeId: hit.codeId, valid };
}

/** The code row is active and its account's two-step authentication is on. */
async function stillValid(ctx: PolicyContext, codeId: number): Promise<boolean> {
  return (await ctx.wrapStore(() => ctx.store.appCodes.stillValidAmong([codeId]))).length === 1;
}

/**
 * The handle of a passthrough decision: its settle() settles the reservation (a rejection becomes
 * a failure of the account's bound, and one of the source's), remembers the source of an accepted
 * password, audits every outcome, and delays the answer to a refusal like any other.
 */
function passthroughHandle(ctx: PolicyContext, req: AuthRequest, started: number, reservation: Reservation, unknown: boolean): PassthroughHandle {
  let settled = false;
  return {
    settle: async (outcome) => {
      if (settled) return;
      settled = true;
      await reservation.settle(outcome === 'rejected');
      if (outcome === 'delegated') return;
      const now = ctx.clock();
      const username = normalizeUsername(req.user);
      if (outcome === 'rejected') {
        ctx.refusalTiming.note(now - started);
        await fail(ctx, req, username, 'invalid-credentials', now, { via: 'passthrough' });
        await failureDelay(ctx, started);
        return;
      }
      if (outcome === 'ok') noteSource(ctx, username, attemptSource(req.clientIp), now);
      // A user twostep has no account for, of a domain with a policy: the rollout counts them from now on.
      if (outcome === 'ok' && unknown) noteSeenUser(ctx, username);
      const event = outcome === 'ok' ? 'login.ok' : 'login.error';
      const extra = outcome === 'ok' ? { via: 'passthrough' } : { via: 'passthrough', reason: 'backend-unavailable' };
      log(ctx, event, req, username, extra);
      ctx.audit({ at: now, username, event, protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, extra) });
    },
  };
}

/**
 * Counts the failure against the source's bound (not the account's: that one counts checks of a
 * guessable password only, through its reservation), logs and audits it, and returns the decision.
 */
async function fail(
  ctx: PolicyContext,
  req: AuthRequest,
  username: string | null,
  reason: FailReason,
  now: number,
  extra: Record<string, unknown> = {},
): Promise<AuthDecision> {
  if (reason !== 'tls-required') await ctx.guard.fail([ipBound(ctx, req.clientIp).key], now);
  log(ctx, 'login.fail', req, username, { reason, ...extra });
  ctx.audit({ at: now, username, event: 'login.fail', protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, { reason, ...extra }) });
  return { ok: false, reason };
}

/** Audit detail of a login: never the secret, only what identifies the attempt. */
function loginDetail(req: AuthRequest, extra: Record<string, unknown>): Record<string, unknown> {
  const d: Record<string, unknown> = { ...extra, mechanism: req.mechanism.slice(0, 32), cid: req.cid, tls: req.tls };
  if (req.clientName) d.client = req.clientName.slice(0, limits.clientNameChars);
  if (req.origin) d.origin = req.origin;
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
