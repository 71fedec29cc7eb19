import type { Database } from 'better-sqlite3';
import type { MailNoticesRepo } from '../store.js';
import type { MailNotice, NewMailNotice } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  username: string;
  kind: string;
  detail: string;
  created_at: number;
  attempts: number;
  next_at: number;
  claimed_until: number | null;
  sent_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

function detailOf(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const toNotice = (r: Row): MailNotice => ({
  id: r.id,
  username: r.username,
  kind: r.kind,
  detail: detailOf(r.detail),
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  claimedUntil: r.claimed_until,
  sentAt: r.sent_at,
  failedAt: r.failed_at,
  lastError: r.last_error,
});

/** Longest error text kept with a notice (a reply line of the mail server, never a secret). */
export const MAIL_NOTICE_ERROR_CHARS = 300;

export function mailNoticeStatements(db: Database) {
  return {
    insert: db.prepare<[string, string, string, number, number]>(
      'INSERT INTO mail_notices (username, kind, detail, created_at, next_at) VALUES (?, ?, ?, ?, ?)',
    ),
    lastQueued: db.prepare<[string, string], { at: number | null }>(
      'SELECT max(created_at) AS at FROM mail_notices WHERE username = ? AND kind = ?',
    ),
    // One statement: the write lock makes it atomic, so two senders never claim one notice.
    claim: db.prepare<[number, number, number, number], Row>(
      `UPDATE mail_notices SET claimed_until = ?
       WHERE id IN (SELECT id FROM mail_notices
                    WHERE next_at <= ? AND sent_at IS NULL AND failed_at IS NULL
                      AND (claimed_until IS NULL OR claimed_until <= ?)
                    ORDER BY next_at, id LIMIT ?)
       RETURNING *`,
    ),
    sent: db.prepare<[number, number]>('UPDATE mail_notices SET sent_at = ?, claimed_until = NULL, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL'),
    retry: db.prepare<[number, string, number]>(
      'UPDATE mail_notices SET next_at = ?, last_error = ?, claimed_until = NULL, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL',
    ),
    failed: db.prepare<[number, string, number]>(
      'UPDATE mail_notices SET failed_at = ?, last_error = ?, claimed_until = NULL, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL',
    ),
    prune: db.prepare<[number, number]>(
      `DELETE FROM mail_notices WHERE id IN (SELECT id FROM mail_notices
         WHERE created_at < ? AND (sent_at IS NOT NULL OR failed_at IS NOT NULL) ORDER BY created_at LIMIT ?)`,
    ),
    listUser: db.prepare<[string, number], Row>('SELECT * FROM mail_notices WHERE username = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
  };
}

/** See MailNoticesRepo. */
export class SqliteMailNoticesRepo extends SqliteRepo<ReturnType<typeof mailNoticeStatements>> implements MailNoticesRepo {
  insert(n: NewMailNotice): Promise<number> {
    const detail = JSON.stringify(n.detail);
    return this.x.run(() => Number(this.s.insert.run(n.username, n.kind, detail, n.createdAt, n.createdAt).lastInsertRowid));
  }

  lastQueuedAt(username: string, kind: string): Promise<number | null> {
    return this.x.run(() => this.s.lastQueued.get(username, kind)?.at ?? null);
  }

  claimDue(now: number, until: number, limit: number): Promise<MailNotice[]> {
    return this.x.run(() =>
      this.s.claim
        .all(until, now, now, limit)
        .map(toNotice)
        .sort((a, b) => a.nextAt - b.nextAt || a.id - b.id),
    );
  }

  markSent(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.sent.run(at, id).changes === 1);
  }

  markRetry(id: number, nextAt: number, error: string): Promise<boolean> {
    return this.x.run(() => this.s.retry.run(nextAt, error.slice(0, MAIL_NOTICE_ERROR_CHARS), id).changes === 1);
  }

  markFailed(id: number, at: number, error: string): Promise<boolean> {
    return this.x.run(() => this.s.failed.run(at, error.slice(0, MAIL_NOTICE_ERROR_CHARS), id).changes === 1);
  }

  prune(before: number, batch: number): Promise<number> {
    return this.x.run(() => this.s.prune.run(before, batch).changes);
  }

  listForUser(username: string, limit: number): Promise<MailNotice[]> {
    return this.x.run(() => this.s.listUser.all(username, limit).map(toNotice));
  }
}
