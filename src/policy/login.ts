import { limits } from '../core/limits.js';
import { normalizeAppCode } from '../crypto/app-code.js';
import { codeLookup } from '../crypto/derive-keys.js';
import type { PolicyContext } from './policy-context.js';
import type { AuthDecision, AuthRequest, FailReason, PassthroughOutcome } from './types.js';
import { normalizeUsername, usernameProblem } from './username.js';

/**
 * The login rule (see Policy.authenticate), then, like Dovecot's auth_failure_delay, a pause
 * of [auth] failure_delay_ms before a refusal is answered: it slows guessing on one connection
 * and blurs the timing difference between "not a code" (no hashing) and a checked code.
 * TLS-required and backend faults are answered at once: they are no guess.
 */
export async function authenticate(ctx: PolicyContext, req: AuthRequest): Promise<AuthDecision> {
  const decision = await decide(ctx, req);
  if (!decision.ok && decision.reason !== 'tls-required' && decision.reason !== 'backend-unavailable') {
    const ms = ctx.config.auth.failure_delay_ms;
    if (ms > 0) await ctx.sleep(ms);
  }
  return decision;
}

async function decide(ctx: PolicyContext, req: AuthRequest): Promise<AuthDecision> {
  const now = ctx.clock();
  const secret = req.secret.reveal();

  if (usernameProblem(req.user) !== null || secret.length > limits.secretChars) {
    return fail(ctx, req, null, 'malformed', now);
  }
  const username = normalizeUsername(req.user);
  if (!req.tls && !ctx.config.auth.allow_plaintext) {
    return fail(ctx, req, username, 'tls-required', now);
  }

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

  const account = ctx.readAccount(username);
  if (!account || account.twofaState !== 'on') {
    // No two-step for this account: the backend judges the user's own password.
    return { ok: true, via: 'passthrough', user: req.user.trim() };
  }

  const code = normalizeAppCode(secret);
  if (code === null) {
    // Not shaped like an application code (e.g. the main password): refuse without hashing.
    return fail(ctx, req, username, 'app-code-required', now, { why: 'not-an-app-code' });
  }
  const row = ctx.wrapStore(() => ctx.store.appCodes.findActiveByLookup(account.id, codeLookup(ctx.lookupKey, code)));
  if (!row) {
    await ctx.hasher.verify(await ctx.dummyHash(), code); // same cost as a real check
    return fail(ctx, req, username, 'app-code-required', now, { why: 'unknown-code' });
  }
  if (!(await ctx.hasher.verify(row.hash, code))) {
    return fail(ctx, req, username, 'app-code-required', now, { why: 'hash-mismatch' });
  }
  const at = ctx.clock();
  const stillActive = ctx.wrapStore(() =>
    ctx.store.appCodes.markUsed(row.id, { at, ip: req.clientIp, protocol: req.protocol, client: req.clientName ?? null }),
  );
  if (!stillActive) {
    // Revoked while argon2 ran.
    return fail(ctx, req, username, 'app-code-required', at, { why: 'revoked', codeName: row.name });
  }
  log(ctx, 'login.ok', req, account.username, { via: 'app-code', codeName: row.name });
  ctx.audit({
    at,
    username: account.username,
    event: 'login.ok',
    protocol: req.protocol,
    ip: req.clientIp,
    detail: loginDetail(req, { via: 'app-code', codeId: row.id, codeName: row.name }),
  });
  return { ok: true, via: 'app-code', user: account.username, codeId: row.id, codeName: row.name };
}

/** The backend's verdict on a passthrough login: a rejection counts towards throttling; all are audited. */
export function reportPassthrough(ctx: PolicyContext, req: AuthRequest, outcome: PassthroughOutcome): void {
  const now = ctx.clock();
  const username = usernameProblem(req.user) === null ? normalizeUsername(req.user) : null;
  if (outcome === 'rejected') {
    fail(ctx, req, username, 'invalid-credentials', now, { via: 'passthrough' });
    return;
  }
  const event = outcome === 'ok' ? 'login.ok' : 'login.error';
  const extra = outcome === 'ok' ? { via: 'passthrough' } : { via: 'passthrough', reason: 'backend-unavailable' };
  log(ctx, event, req, username, extra);
  ctx.audit({ at: now, username, event, protocol: req.protocol, ip: req.clientIp, detail: loginDetail(req, extra) });
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
  ctx.logger.debug({ event, cid: req.cid, proto: req.protocol, user, ip: req.clientIp, ...extra }, event);
}
