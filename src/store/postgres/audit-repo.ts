import { auditDay, dailyKey, type AuditDailyCount, type AuditPageQuery } from '../console-store.js';
import type { AuditRepo } from '../store.js';
import type { AuditEvent, NewAuditEvent } from '../types.js';
import { toEvent } from '../sqlite/audit-repo.js';
import { pgAuditWalks } from './console-sql.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toEvent>[0];

/** Rows per INSERT of a batch (6 parameters each; PostgreSQL takes at most 65,535). */
const AUDIT_ROWS_PER_INSERT = 500;

/** See AuditRepo. */
export class PgAuditRepo extends PgRepo implements AuditRepo {
  deleteBefore(at: number, batch: number): Promise<number> {
    return this.changed('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)', [at, batch]);
  }

  /** The event and its daily count in one statement (atomic on its own, or inside the caller's transaction). */
  insert(e: NewAuditEvent): Promise<number> {
    const sql = `WITH ev AS (
                   INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                 ), day AS (
                   INSERT INTO audit_daily (day, event, protocol, via, why, n) VALUES ($7, $3, $8, $9, $10, 1)
                   ON CONFLICT (day, event, protocol, via, why) DO UPDATE SET n = audit_daily.n + 1
                 )
                 SELECT id FROM ev`;
    const detail = e.detail ?? {};
    return this.insertId(sql, [
      e.at, e.username ?? null, e.event, e.protocol ?? null, e.ip ?? null, JSON.stringify(detail),
      auditDay(e.at), e.protocol ?? '', dailyKey(detail, 'via'), dailyKey(detail, 'why'),
    ]);
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
    // Their daily counts, summed here: one upsert per (day, event, protocol, via, why).
    const counts = new Map<string, { day: number; event: string; protocol: string; via: string; why: string; n: number }>();
    for (const e of events) {
      const k = { day: auditDay(e.at), event: e.event, protocol: e.protocol ?? '', via: dailyKey(e.detail, 'via'), why: dailyKey(e.detail, 'why') };
      const key = JSON.stringify(k);
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { ...k, n: 1 });
    }
    if (counts.size === 0) return;
    const c = [...counts.values()];
    await this.x.q(
      `INSERT INTO audit_daily (day, event, protocol, via, why, n)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
       ON CONFLICT (day, event, protocol, via, why) DO UPDATE SET n = audit_daily.n + excluded.n`,
      [c.map((x) => x.day), c.map((x) => x.event), c.map((x) => x.protocol), c.map((x) => x.via), c.map((x) => x.why), c.map((x) => x.n)],
    );
  }

  async page(q: AuditPageQuery): Promise<AuditEvent[]> {
    const walks = pgAuditWalks(q);
    const rows: Row[] = [];
    for (const w of walks) rows.push(...(await this.x.q<Row>(w.text, w.values, false)).rows);
    if (walks.length > 1) {
      // Merge the walks: newest first (oldest first for `before`), then the page's share.
      const sign = q.before !== undefined ? 1 : -1;
      rows.sort((a, b) => sign * (Number(a.at) - Number(b.at) || Number(a.id) - Number(b.id)));
      rows.length = Math.min(rows.length, q.limit);
    }
    if (q.before !== undefined) rows.reverse();
    return rows.map(toEvent);
  }

  async eventNames(): Promise<string[]> {
    return (await this.x.q<{ event: string }>('SELECT event FROM audit_daily GROUP BY event ORDER BY event COLLATE "C"')).rows.map((r) => r.event);
  }

  async dailyCounts(fromDay: number, toDay: number): Promise<AuditDailyCount[]> {
    const sql = 'SELECT day, event, protocol, via, why, n FROM audit_daily WHERE day >= $1 AND day <= $2';
    return (await this.x.q<AuditDailyCount>(sql, [fromDay, toDay])).rows.map((r) => ({ ...r, day: Number(r.day), n: Number(r.n) }));
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
