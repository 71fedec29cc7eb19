import type { Database } from 'better-sqlite3';
import { auditDay, dailyKey, type AuditDailyCount, type AuditPageQuery } from '../console-store.js';
import type { AuditRepo } from '../store.js';
import type { AuditEvent, NewAuditEvent } from '../types.js';
import { auditConsoleStatements, auditWalks } from './audit-pages.js';
import { SqliteRepo } from './sqlite-repo.js';

/** The stored row: as AuditEvent, with detail still JSON text. */
type Row = Omit<AuditEvent, 'detail'> & { detail: string };

export const toEvent = (r: Row): AuditEvent => {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // keep {}
  }
  return { id: r.id, at: r.at, username: r.username, event: r.event, protocol: r.protocol, ip: r.ip, detail };
};

type SearchParams = { username: string | null; event: string | null; protocol: string | null; limit: number };

export function auditStatements(db: Database) {
  return {
    db,
    console: auditConsoleStatements(db),
    // One statement for every filter combination: a NULL parameter means "any".
    search: db.prepare<[SearchParams], Row>(
      `SELECT * FROM audit_events
       WHERE (@username IS NULL OR username = @username)
         AND (@event IS NULL OR event = @event OR event LIKE @event || '.%')
         AND (@protocol IS NULL OR protocol = @protocol)
       ORDER BY at DESC, id DESC LIMIT @limit`,
    ),
    insert: db.prepare<[number, string | null, string, string | null, string | null, string]>(
      'INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    listAll: db.prepare<[number], Row>('SELECT * FROM audit_events ORDER BY at DESC, id DESC LIMIT ?'),
    listUser: db.prepare<[string, number], Row>('SELECT * FROM audit_events WHERE username = ? ORDER BY at DESC, id DESC LIMIT ?'),
    deleteBefore: db.prepare<[number, number]>(
      'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)',
    ),
  };
}

/** See AuditRepo. */
export class SqliteAuditRepo extends SqliteRepo<ReturnType<typeof auditStatements>> implements AuditRepo {
  deleteBefore(at: number, batch: number): Promise<number> {
    return this.x.run(() => this.s.deleteBefore.run(at, batch).changes);
  }

  insert(e: NewAuditEvent): Promise<number> {
    const detail = JSON.stringify(e.detail ?? {});
    const day = { day: auditDay(e.at), event: e.event, protocol: e.protocol ?? '', via: dailyKey(e.detail, 'via'), why: dailyKey(e.detail, 'why') };
    const both = () => {
      const id = Number(this.s.insert.run(e.at, e.username ?? null, e.event, e.protocol ?? null, e.ip ?? null, detail).lastInsertRowid);
      this.s.console.daily.run(day);
      return id;
    };
    // The event and its daily count together: inside the caller's transaction, or in one of their own.
    return this.x.run(() => (this.s.db.inTransaction ? both() : this.s.db.transaction(both)()));
  }

  page(q: AuditPageQuery): Promise<AuditEvent[]> {
    const walks = auditWalks(q);
    return this.x.run(() => {
      const rows = walks.flatMap((w) => this.s.console.walk(w.sql).all(w.params) as Row[]);
      if (walks.length > 1) {
        // Merge the walks: newest first (oldest first for `before`), then the page's share.
        const sign = q.before !== undefined ? 1 : -1;
        rows.sort((a, b) => sign * (a.at - b.at || a.id - b.id));
        rows.length = Math.min(rows.length, q.limit);
      }
      if (q.before !== undefined) rows.reverse();
      return rows.map(toEvent);
    });
  }

  eventNames(): Promise<string[]> {
    return this.x.run(() => this.s.console.eventNames.all().map((r) => r.event));
  }

  dailyCounts(fromDay: number, toDay: number): Promise<AuditDailyCount[]> {
    return this.x.run(() => this.s.console.dailyCounts.all(fromDay, toDay));
  }

  search(opts: { username?: string; event?: string; protocol?: string; limit: number }): Promise<AuditEvent[]> {
    const params = { username: opts.username ?? null, event: opts.event ?? null, protocol: opts.protocol ?? null, limit: opts.limit };
    return this.x.run(() => this.s.search.all(params).map(toEvent));
  }

  list(opts: { username?: string; limit: number }): Promise<AuditEvent[]> {
    return this.x.run(() => {
      const rows = opts.username === undefined ? this.s.listAll.all(opts.limit) : this.s.listUser.all(opts.username, opts.limit);
      return rows.map(toEvent);
    });
  }
}
