import type { AttemptsRepo } from '../store.js';
import type { PgExec } from './pg-connection.js';
import { PgRepo } from './pg-repo.js';

/** The first half of twostep's advisory lock keys: the guessing bounds' (the second is the key's hash). */
export const ATTEMPT_LOCK_CLASS = 29783;

/**
 * See AttemptsRepo. The guessing bounds reserve a check with count-then-insert in one transaction
 * (attempt-guard.ts); under PostgreSQL's READ COMMITTED two nodes could both count 9 of 10 and
 * both insert. So inside a transaction, count first takes a transaction-level advisory lock on
 * the key (pg_advisory_xact_lock(29783, hashtext(key))): reservations of one key take turns
 * across every node until commit, and each counts what the one before it inserted. A lock
 * statement of its own, before the count: a statement's snapshot is taken when it starts, so a
 * count in the same statement could miss what the lock's last holder committed. Outside a
 * transaction (a source's verdict, a read) nothing is locked.
 */
export class PgAttemptsRepo extends PgRepo implements AttemptsRepo {
  readonly #inTransaction: boolean;

  constructor(x: PgExec, inTransaction: boolean) {
    super(x);
    this.#inTransaction = inTransaction;
  }

  async count(key: string, since: number, now: number): Promise<{ n: number; oldest: number | null; newest: number | null }> {
    if (this.#inTransaction) await this.x.q('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ATTEMPT_LOCK_CLASS, key]);
    const sql = `SELECT count(*) AS n, min(at) AS oldest, max(at) AS newest FROM auth_attempts
                 WHERE key = $1 AND at > $2 AND (expires_at IS NULL OR expires_at > $3)`;
    return (await this.one<{ n: number; oldest: number | null; newest: number | null }>(sql, [key, since, now])) ?? { n: 0, oldest: null, newest: null };
  }

  async insertPending(key: string, attempt: string, at: number, expiresAt: number): Promise<void> {
    await this.x.q('INSERT INTO auth_attempts (key, at, attempt, expires_at) VALUES ($1, $2, $3, $4)', [key, at, attempt, expiresAt]);
  }

  async settle(attempt: string, failed: boolean, at: number): Promise<void> {
    if (failed) await this.x.q('UPDATE auth_attempts SET at = $1, attempt = NULL, expires_at = NULL WHERE attempt = $2', [at, attempt]);
    else await this.x.q('DELETE FROM auth_attempts WHERE attempt = $1', [attempt]);
  }

  async record(keys: readonly string[], at: number): Promise<void> {
    if (keys.length === 0) return;
    await this.x.q('INSERT INTO auth_attempts (key, at) SELECT k, $2 FROM unnest($1::text[]) AS k', [keys, at]);
  }

  prune(before: number, now: number, batch: number): Promise<number> {
    const sql = `DELETE FROM auth_attempts WHERE id IN (SELECT id FROM auth_attempts
                   WHERE (expires_at IS NOT NULL AND expires_at <= $1) OR (expires_at IS NULL AND at < $2) LIMIT $3)`;
    return this.changed(sql, [now, before, batch]);
  }
}
