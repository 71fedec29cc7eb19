import type { Database } from 'better-sqlite3';
import type { KnownSourcesRepo } from '../store.js';
import { SqliteRepo } from './sqlite-repo.js';

export function knownSourceStatements(db: Database) {
  return {
    has: db.prepare<[string, string, number], { one: number }>(
      'SELECT 1 AS one FROM known_sources WHERE username = ? AND source = ? AND last_at >= ?',
    ),
    insert: db.prepare<[string, string, number, number]>(
      'INSERT INTO known_sources (username, source, first_at, last_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    touch: db.prepare<[number, string, string, number]>(
      'UPDATE known_sources SET last_at = ? WHERE username = ? AND source = ? AND last_at < ?',
    ),
    prune: db.prepare<[number]>('DELETE FROM known_sources WHERE last_at < ?'),
    lastAt: db.prepare<[string, string], { last_at: number }>('SELECT last_at FROM known_sources WHERE username = ? AND source = ?'),
  };
}

/** See KnownSourcesRepo. */
export class SqliteKnownSourcesRepo extends SqliteRepo<ReturnType<typeof knownSourceStatements>> implements KnownSourcesRepo {
  has(username: string, source: string, since: number): Promise<boolean> {
    return this.x.run(() => this.s.has.get(username, source, since) !== undefined);
  }

  lastAt(username: string, source: string): Promise<number | null> {
    return this.x.run(() => this.s.lastAt.get(username, source)?.last_at ?? null);
  }

  note(username: string, source: string, at: number): Promise<boolean> {
    return this.x.run(() => {
      if (this.s.insert.run(username, source, at, at).changes === 1) return true;
      this.s.touch.run(at, username, source, at);
      return false;
    });
  }

  prune(before: number): Promise<number> {
    return this.x.run(() => this.s.prune.run(before).changes);
  }
}
