import type { MailNoticesRepo } from '../store.js';
import type { MailNotice, NewMailNotice } from '../types.js';
import { MAIL_NOTICE_ERROR_CHARS, toNotice } from '../sqlite/mail-notices-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toNotice>[0];

/** See MailNoticesRepo. */
export class PgMailNoticesRepo extends PgRepo implements MailNoticesRepo {
  insert(n: NewMailNotice): Promise<number> {
    const sql = 'INSERT INTO mail_notices (username, kind, detail, created_at, next_at) VALUES ($1, $2, $3, $4, $4) RETURNING id';
    return this.insertId(sql, [n.username, n.kind, JSON.stringify(n.detail), n.createdAt]);
  }

  async lastQueuedAt(username: string, kind: string): Promise<number | null> {
    return (await this.one<{ at: number | null }>('SELECT max(created_at) AS at FROM mail_notices WHERE username = $1 AND kind = $2', [username, kind]))?.at ?? null;
  }

  async claimDue(now: number, until: number, limit: number): Promise<MailNotice[]> {
    // FOR UPDATE SKIP LOCKED: two senders (two nodes) never claim one notice.
    const sql = `UPDATE mail_notices SET claimed_until = $1
                 WHERE id IN (SELECT id FROM mail_notices
                              WHERE next_at <= $2 AND sent_at IS NULL AND failed_at IS NULL
                                AND (claimed_until IS NULL OR claimed_until <= $2)
                              ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING *`;
    return (await this.x.q<Row>(sql, [until, now, limit])).rows.map(toNotice).sort((a, b) => a.nextAt - b.nextAt || a.id - b.id);
  }

  async markSent(id: number, at: number): Promise<boolean> {
    const sql = 'UPDATE mail_notices SET sent_at = $1, claimed_until = NULL, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL';
    return (await this.changed(sql, [at, id])) === 1;
  }

  async markRetry(id: number, nextAt: number, error: string): Promise<boolean> {
    const sql = `UPDATE mail_notices SET next_at = $1, last_error = $2, claimed_until = NULL, attempts = attempts + 1
                 WHERE id = $3 AND sent_at IS NULL AND failed_at IS NULL`;
    return (await this.changed(sql, [nextAt, error.slice(0, MAIL_NOTICE_ERROR_CHARS), id])) === 1;
  }

  async markFailed(id: number, at: number, error: string): Promise<boolean> {
    const sql = `UPDATE mail_notices SET failed_at = $1, last_error = $2, claimed_until = NULL, attempts = attempts + 1
                 WHERE id = $3 AND sent_at IS NULL AND failed_at IS NULL`;
    return (await this.changed(sql, [at, error.slice(0, MAIL_NOTICE_ERROR_CHARS), id])) === 1;
  }

  prune(before: number, batch: number): Promise<number> {
    const sql = `DELETE FROM mail_notices WHERE id IN (SELECT id FROM mail_notices
                   WHERE created_at < $1 AND (sent_at IS NOT NULL OR failed_at IS NOT NULL) ORDER BY created_at LIMIT $2)`;
    return this.changed(sql, [before, batch]);
  }

  async listForUser(username: string, limit: number): Promise<MailNotice[]> {
    const sql = 'SELECT * FROM mail_notices WHERE username = $1 ORDER BY created_at DESC, id DESC LIMIT $2';
    return (await this.x.q<Row>(sql, [username, limit])).rows.map(toNotice);
  }
}
