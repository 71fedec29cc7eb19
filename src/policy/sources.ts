import { createHash } from 'node:crypto';
import { limits } from '../core/limits.js';
import type { GuardKey } from './attempt-guard.js';
import type { PolicyContext } from './policy-context.js';
import { networkOf } from './source-network.js';

/**
 * Where an attempt comes from, as the guessing bounds see it. A source the owner signed in from
 * before (a network, or a portal browser that kept twostep's cookie) has a bound of its own; all
 * other sources share the account's bound. So a stranger's guesses, from however many addresses,
 * use up the strangers' budget and never the owner's.
 */
export interface AttemptSource {
  /** The client's network ("net:203.0.113.0/24"). */
  net: string;
  /** The portal browser's identity ("browser:<sha-256 of its cookie>"), when it has one. */
  browser?: string;
}

export function attemptSource(ip: string, browserToken?: string): AttemptSource {
  const net = `net:${networkOf(ip)}`;
  if (browserToken === undefined || browserToken.length === 0 || browserToken.length > 128) return { net };
  return { net, browser: `browser:${createHash('sha256').update(browserToken).digest('hex')}` };
}

/** The source's own name when the user has signed in from it before (browser first), else null. */
export async function knownSource(ctx: PolicyContext, subject: string, s: AttemptSource, now: number): Promise<string | null> {
  const since = now - limits.knownSourceMs;
  if (s.browser !== undefined && (await ctx.store.knownSources.has(subject, s.browser, since))) return s.browser;
  if (await ctx.store.knownSources.has(subject, s.net, since)) return s.net;
  return null;
}

/**
 * Remembers that the user signed in from this source (queued: a login never waits for it). A
 * browser seen for the first time gets the user a 'new-browser' notice ([notify]) naming it
 * ("Chrome on Linux", when known) and the address it came from.
 */
export function noteSource(ctx: PolicyContext, subject: string, s: AttemptSource, now: number, from?: { ip: string; browserLabel?: string }): void {
  ctx.store.later({ kind: 'source-seen', username: subject, source: s.net, at: now });
  if (s.browser === undefined) return;
  const label = from?.browserLabel === undefined ? {} : { browser: from.browserLabel.slice(0, 64) };
  const notice = ctx.notice(subject, 'new-browser', { ...label, ...(from ? { ip: from.ip } : {}) });
  ctx.store.later({ kind: 'source-seen', username: subject, source: s.browser, at: now, ...(notice ? { noticeIfNew: notice } : {}) });
}

/**
 * With [notify] new_network on: remembers the network an application code signed in from, as
 * "code:<id>|net:<network>" among the user's sources; the first sign-in of the code from a
 * network (so also its very first) queues a 'new-network' notice, once, whichever process sees it.
 */
export function noteCodeNetwork(
  ctx: PolicyContext,
  subject: string,
  code: { codeId: number; codeName: string },
  s: AttemptSource,
  req: { clientIp: string; protocol: string; clientName?: string },
  now: number,
): void {
  const detail = { codeName: code.codeName, network: s.net.slice(4), ip: req.clientIp, protocol: req.protocol, ...(req.clientName ? { client: req.clientName } : {}) };
  const notice = ctx.notice(subject, 'new-network', detail);
  if (notice) ctx.store.later({ kind: 'source-seen', username: subject, source: `code:${code.codeId}|${s.net}`, at: now, noticeIfNew: notice });
}

/** The bound of one source address: [auth] ip_failures per window (high: carrier-grade NAT). */
export function ipBound(ctx: PolicyContext, ip: string): GuardKey {
  return { key: `ip:${ip}`, limit: ctx.config.auth.ip_failures, windowMs: ctx.config.auth.failure_window_seconds * 1000 };
}

/**
 * The bound of guesses at a subject's password ("user:alice", "admin:root"): [auth] user_failures
 * per window, for all unknown sources together, or for one known source of its own.
 */
export function subjectBound(ctx: PolicyContext, subject: string, known: string | null): GuardKey {
  return {
    key: known === null ? subject : `${subject}|${known}`,
    limit: ctx.config.auth.user_failures,
    windowMs: ctx.config.auth.failure_window_seconds * 1000,
  };
}
