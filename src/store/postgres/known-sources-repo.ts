import type { KnownSourcesRepo } from '../store.js';
import { PgRepo } from './pg-repo.js';

/** See KnownSourcesRepo. */
export class PgKnownSourcesRepo extends PgRepo implements KnownSourcesRepo {
  async has(username: string, source: string, since: number): Promise<boolean> {
    return (await this.one('SELECT 1 AS one FROM known_sources WHERE username = $1 AND source = $2 AND last_at >= $3', [username, source, since])) !== undefined;
  }

  async lastAt(username: string, source: string): Promise<number | null> {
    return (await this.one<{ last_at: number }>('SELECT last_at FROM known_sources WHERE username = $1 AND source = $2', [username, source]))?.last_at ?? null;
  }

  async note(username: string, source: string, at: number): Promise<boolean> {
    // One statement: a new row, or a later last_at; xmax = 0 only on a row this statement inserted.
    const sql = `INSERT INTO known_sources (username, source, first_at, last_at) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (username, source) DO UPDATE SET last_at = EXCLUDED.last_at WHERE known_sources.last_at < EXCLUDED.last_at
                 RETURNING (xmax = 0) AS inserted`;
    return (await this.one<{ inserted: boolean }>(sql, [username, source, at]))?.inserted ?? false;
  }

  prune(before: number): Promise<number> {
    return this.changed('DELETE FROM known_sources WHERE last_at < $1', [before]);
  }
}
