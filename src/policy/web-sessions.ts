import { randomBytes } from 'node:crypto';
import { limits } from '../core/limits.js';
import type { WebSession, WebSessionKind, WebSessionStage } from '../store/types.js';
import type { PolicyContext } from './policy-context.js';
import { hashToken } from './trusted-devices.js';

/** A portal session as the portal sees it (never the token hash). */
export interface WebSessionView {
  kind: WebSessionKind;
  subject: string;
  stage: WebSessionStage;
  /** The value every form of this session must carry back (CSRF). */
  csrfToken: string;
  /** The password was confirmed in this session within limits.portalReauthMs (the setup wizard may go on). */
  recentlyReauthenticated: boolean;
}

/** Minimum gap between two last-seen writes of one session: one write per minute, not per request. */
const TOUCH_EVERY_MS = 60_000;

function lifetimes(ctx: PolicyContext): { idleMs: number; maxMs: number } {
  const p = ctx.config.portal;
  return { idleMs: (p?.session_idle_minutes ?? 30) * 60_000, maxMs: (p?.session_max_hours ?? 12) * 3_600_000 };
}

const view = (s: WebSession, now: number): WebSessionView => ({
  kind: s.kind,
  subject: s.subject,
  stage: s.stage,
  csrfToken: s.csrfSecret,
  recentlyReauthenticated: s.reauthAt !== null && now - s.reauthAt < limits.portalReauthMs,
});

/** A new session with a fresh 256-bit token (for the cookie; only its hash is stored). */
export async function createWebSession(
  ctx: PolicyContext,
  kind: WebSessionKind,
  subject: string,
  stage: WebSessionStage,
  /** The trusted device that let this sign-in skip the code: revoking it ends the session. */
  deviceId?: number,
): Promise<{ token: string; session: WebSessionView }> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const row = {
    tokenHash: hashToken(token),
    kind,
    subject,
    stage,
    csrfSecret: randomBytes(32).toString('base64url'),
    createdAt: now,
    // Half signed in (password only): a short life; signed in: [portal] session_max_hours.
    expiresAt: now + (stage === 'second-factor' ? limits.portalSecondFactorMs : lifetimes(ctx).maxMs),
  };
  await ctx.wrapStore(() => ctx.store.webSessions.insert(row));
  if (deviceId !== undefined) await ctx.wrapStore(() => ctx.store.webSessions.setDevice(row.tokenHash, deviceId));
  return { token, session: view({ ...row, id: 0, reauthAt: null, lastSeenAt: now }, now) };
}

/** The live session of this kind for the token, or null (unknown, expired or idle too long: then deleted). */
export async function readWebSession(ctx: PolicyContext, token: string, kind: WebSessionKind): Promise<WebSessionView | null> {
  if (token.length === 0 || token.length > 128) return null;
  const now = ctx.clock();
  const hash = hashToken(token);
  const s = await ctx.wrapStore(() => ctx.store.webSessions.findByTokenHash(hash));
  if (!s || s.kind !== kind) return null;
  if (s.expiresAt <= now || s.lastSeenAt + lifetimes(ctx).idleMs <= now) {
    // Refused either way: nobody waits for the delete (a locked database leaves it to the sweep).
    void ctx.store.webSessions.deleteByTokenHash(hash).catch(() => {});
    return null;
  }
  // Last seen is queued (a page view never waits for a write); the store's own reads see it at once.
  if (now - s.lastSeenAt >= TOUCH_EVERY_MS) ctx.store.later({ kind: 'web-session-seen', sessionId: s.id, at: now });
  return view(s, now);
}

/**
 * A new token (and CSRF value) for the same subject at `stage`; the old token stops working.
 * Called whenever the session gains privilege (password → code → signed in), so a token planted
 * before sign-in is worthless after it.
 */
export async function rotateWebSession(
  ctx: PolicyContext,
  token: string,
  kind: WebSessionKind,
  stage: WebSessionStage,
): Promise<{ token: string; session: WebSessionView } | null> {
  const s = await readWebSession(ctx, token, kind);
  if (!s) return null;
  await endWebSession(ctx, token);
  return createWebSession(ctx, kind, s.subject, stage);
}

/** Records that the password was confirmed just now (the setup wizard's "Confirm Password"). */
export async function markWebSessionReauth(ctx: PolicyContext, token: string): Promise<void> {
  const s = await ctx.wrapStore(() => ctx.store.webSessions.findByTokenHash(hashToken(token)));
  if (s) await ctx.wrapStore(() => ctx.store.webSessions.setReauth(s.id, ctx.clock()));
}

export async function endWebSession(ctx: PolicyContext, token: string): Promise<void> {
  await ctx.wrapStore(() => ctx.store.webSessions.deleteByTokenHash(hashToken(token)));
}

/** Sign out everywhere: every portal session of this user (or admin). Audited. */
export async function endAllWebSessions(ctx: PolicyContext, kind: WebSessionKind, subject: string, ip: string | null): Promise<number> {
  const n = await ctx.wrapStore(() => ctx.store.webSessions.deleteForSubject(kind, subject));
  ctx.audit({ at: ctx.clock(), username: kind === 'user' ? subject : null, event: 'portal.sign-out-all', protocol: 'portal', ip, detail: kind === 'admin' ? { admin: subject, count: n } : { count: n } });
  return n;
}

export function sweepWebSessions(ctx: PolicyContext): Promise<number> {
  const now = ctx.clock();
  return ctx.wrapStore(() => ctx.store.webSessions.deleteExpired(now, now - lifetimes(ctx).idleMs));
}
