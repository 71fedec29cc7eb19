import { limits } from '../core/limits.js';
import type { MailNotice } from '../store/types.js';
import { iso, type PolicyContext } from './policy-context.js';

/**
 * An account's guessing bound started refusing: its owner hears of it once per lockout (the
 * caller's firstRefusal), and at most once per limits.noticeLockedQuietMs however often a
 * guesser runs into the bound again.
 */
export function notifyLocked(ctx: PolicyContext, username: string, d: { protocol: string; ip: string; retryAfterMs: number }): void {
  ctx.notify(username, 'account-locked', { protocol: d.protocol, ip: d.ip, minutes: Math.max(1, Math.ceil(d.retryAfterMs / 60_000)) }, limits.noticeLockedQuietMs);
}

/** What a sender does with a notice it could not send. */
export type RetryVerdict = 'retry' | 'failed';

/**
 * The queue of mail notices as `serve`'s sender loop (src/notify) sees it: claim what is due,
 * then mark each sent, due again later (doubling waits), or given up; plus the periodic jobs
 * (codes that expire within a week, old notices). Every process may queue; any may send.
 */
export class MailNoticeQueue {
  readonly #ctx: PolicyContext;

  constructor(ctx: PolicyContext) {
    this.#ctx = ctx;
  }

  /** Up to `limit` due notices, held for this sender for limits.noticeLeaseMs. */
  claim(limit: number): Promise<MailNotice[]> {
    const now = this.#ctx.clock();
    return this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.claimDue(now, now + limits.noticeLeaseMs, limit));
  }

  async sent(id: number): Promise<void> {
    await this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.markSent(id, this.#ctx.clock()));
  }

  /**
   * A try that failed for a reason that may pass (server down, 4xx): due again after
   * noticeRetryFirstMs doubling up to noticeRetryMaxMs; given up after noticeMaxAttempts tries
   * or once older than noticeMaxAgeMs.
   */
  async retry(n: MailNotice, error: string): Promise<RetryVerdict> {
    const now = this.#ctx.clock();
    const tries = n.attempts + 1;
    if (tries >= limits.noticeMaxAttempts || now - n.createdAt >= limits.noticeMaxAgeMs) {
      await this.failed(n.id, error);
      return 'failed';
    }
    const wait = Math.min(limits.noticeRetryFirstMs * 2 ** (tries - 1), limits.noticeRetryMaxMs);
    await this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.markRetry(n.id, now + wait, error));
    return 'retry';
  }

  /** Given up for good (the server refused the recipient, or no address is known). */
  async failed(id: number, error: string): Promise<void> {
    await this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.markFailed(id, this.#ctx.clock(), error));
  }

  /**
   * Queues one 'code-expiring' notice per active code that expires within
   * limits.codeExpiryNoticeMs (and was not noticed yet); marked and queued in one transaction,
   * so two processes never both queue it. Returns how many were queued.
   */
  async queueExpiring(): Promise<number> {
    const ctx = this.#ctx;
    if (!ctx.notifies('code-expiring')) return 0;
    let queued = 0;
    for (;;) {
      const now = ctx.clock();
      const due = await ctx.wrapStore(() => ctx.store.appCodes.expiringUnnoticed(now, now + limits.codeExpiryNoticeMs, limits.noticeBatch));
      for (const c of due) {
        const notice = ctx.notice(c.username, 'code-expiring', { codeName: c.name, expiresAt: iso(c.expiresAt ?? now) });
        if (!notice) return queued;
        const done = await ctx.tx(async (tx) => (await tx.appCodes.markExpiryNoticed(c.id, now)) && (await tx.mailNotices.insert(notice)) > 0);
        if (done) queued++;
      }
      if (due.length < limits.noticeBatch) return queued;
    }
  }

  /** Deletes sent and given-up notices older than limits.noticeKeepMs; returns how many. */
  async prune(): Promise<number> {
    const before = this.#ctx.clock() - limits.noticeKeepMs;
    let total = 0;
    for (;;) {
      const n = await this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.prune(before, limits.auditPruneBatch));
      total += n;
      if (n < limits.auditPruneBatch) return total;
    }
  }

  /** The user's notices, newest first. */
  listFor(username: string, limit = 100): Promise<MailNotice[]> {
    return this.#ctx.wrapStore(() => this.#ctx.store.mailNotices.listForUser(username, limit));
  }
}
