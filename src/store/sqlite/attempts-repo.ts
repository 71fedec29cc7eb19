import type { Database } from 'better-sqlite3';
import type { AttemptsRepo } from '../store.js';
import { SqliteRepo } from './sqlite-repo.js';

/** The statements of the guessing bounds (a login runs count, and a reservation insertPending). */
export const ATTEMPT_SQL = {
  count: `SELECT count(*) AS n, min(at) AS oldest, max(at) AS newest FROM auth_attempts
          WHERE key = ? AND at > ? AND (expires_at IS NULL OR expires_at > ?)`,
} as const;

export function attemptStatements(db: Database) {
  return {
    count: db.prepare<[string, number, number], { n: number; oldest: number | null; newest: number | null }>(ATTEMPT_SQL.count),
    insertPending: db.prepare<[string, number, string, number]>('INSERT INTO auth_attempts (key, at, attempt, expires_at) VALUES (?, ?, ?, ?)'),
    fail: db.prepare<[number, string]>('UPDATE auth_attempts SET at = ?, attempt = NULL, expires_at = NULL WHERE attempt = ?'),
    release: db.prepare<[string]>('DELETE FROM auth_attempts WHERE attempt = ?'),
    record: db.prepare<[string, number]>('INSERT INTO auth_attempts (key, at) VALUES (?, ?)'),
    prune: db.prepare<[number, number, number]>(
      `DELETE FROM auth_attempts WHERE id IN (SELECT id FROM auth_attempts
         WHERE (expires_at IS NOT NULL AND expires_at <= ?) OR (expires_at IS NULL AND at < ?) LIMIT ?)`,
    ),
  };
}

/** See AttemptsRepo. */
export class SqliteAttemptsRepo extends SqliteRepo<ReturnType<typeof attemptStatements>> implements AttemptsRepo {
  count(key: string, since: number, now: number): Promise<{ n: number; oldest: number | null; newest: number | null }> {
    return this.x.run(() => this.s.count.get(key, since, now) ?? { n: 0, oldest: null, newest: null });
  }

  insertPending(key: string, attempt: string, at: number, expiresAt: number): Promise<void> {
    return this.x.run(() => {
      this.s.insertPending.run(key, at, attempt, expiresAt);
    });
  }

  settle(attempt: string, failed: boolean, at: number): Promise<void> {
    return this.x.run(() => {
      if (failed) this.s.fail.run(at, attempt);
      else this.s.release.run(attempt);
    });
  }

  record(keys: readonly string[], at: number): Promise<void> {
    return this.x.run(() => {
      for (const k of keys) this.s.record.run(k, at);
    });
  }

  prune(before: number, now: number, batch: number): Promise<number> {
    return this.x.run(() => this.s.prune.run(now, before, batch).changes);
  }
}
