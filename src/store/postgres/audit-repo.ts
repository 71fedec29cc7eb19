import type { AuditRepo } from '../store.js';
import type { AuditEvent, NewAuditEvent } from '../types.js';
import { toEvent } from '../sqlite/audit-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toEvent>[0];

/** Rows per INSERT of a batch (6 parameters each; PostgreSQL takes at most 65,535). */
const AUDIT_ROWS_PER_INSERT = 500;

/** See AuditRepo. */
export class PgAuditRepo extends PgRepo implements AuditRepo {
  deleteBefore(at: number, batch: number): Promise<number> {
    return this.changed('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)', [at, batch]);
  }

  insert(e: NewAuditEvent): Promise<number> {
    const sql = 'INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id';
    return this.insertId(sql, [e.at, e.username ?? null, e.event, e.protocol ?? null, e.ip ?? null, JSON.stringify(e.detail ?? {})]);
  }

  /** Several events in one statement (the write-behind queue's batches), in order. */
  async insertAll(events: readonly NewAuditEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += AUDIT_ROWS_PER_INSERT) {
      const values: unknown[] = [];
      const rows = events.slice(i, i + AUDIT_ROWS_PER_INSERT).map((e) => {
        const n = values.push(e.at, e.username ?? null, e.event, e.protocol ?? null, e.ip ?? null, JSON.stringify(e.detail ?? {}));
        return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      // Not prepared: its text changes with the number of rows.
      await this.x.q(`INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES ${rows.join(', ')}`, values, false);
    }
  }

  async search(opts: { username?: string; event?: string; protocol?: string; limit: number }): Promise<AuditEvent[]> {
    // One statement for every filter combination: a NULL parameter means "any".
    const sql = `SELECT * FROM audit_events
                 WHERE ($1::text IS NULL OR username = $1)
                   AND ($2::text IS NULL OR event = $2 OR event LIKE $2 || '.%')
                   AND ($3::text IS NULL OR protocol = $3)
                 ORDER BY at DESC, id DESC LIMIT $4`;
    const rows = await this.x.q<Row>(sql, [opts.username ?? null, opts.event ?? null, opts.protocol ?? null, opts.limit]);
    return rows.rows.map(toEvent);
  }

  async list(opts: { username?: string; limit: number }): Promise<AuditEvent[]> {
    const rows =
      opts.username === undefined
        ? await this.x.q<Row>('SELECT * FROM audit_events ORDER BY at DESC, id DESC LIMIT $1', [opts.limit])
        : await this.x.q<Row>('SELECT * FROM audit_events WHERE username = $1 ORDER BY at DESC, id DESC LIMIT $2', [opts.username, opts.limit]);
    return rows.rows.map(toEvent);
  }
}
