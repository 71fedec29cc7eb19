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
    const sql = 'INSERT INTO known_sources (username, source, first_at, last_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING';
    if ((await this.changed(sql, [username, source, at])) === 1) return true;
    await this.x.q('UPDATE known_sources SET last_at = $1 WHERE username = $2 AND source = $3 AND last_at < $1', [at, username, source]);
    return false;
  }

  prune(before: number): Promise<number> {
    return this.changed('DELETE FROM known_sources WHERE last_at < $1', [before]);
  }
}
