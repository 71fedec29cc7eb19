import type { Database } from 'better-sqlite3';
import type { AuditEvent } from './types.js';

/** The stored row: as AuditEvent, with detail still JSON text. */
type Row = Omit<AuditEvent, 'detail'> & { detail: string };

const toEvent = (r: Row): AuditEvent => {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // keep {}
  }
  return { id: r.id, at: r.at, username: r.username, event: r.event, protocol: r.protocol, ip: r.ip, detail };
};

export interface NewAuditEvent {
  at: number;
  username?: string | null;
  event: string;
  protocol?: string | null;
  ip?: string | null;
  /** Must never hold a secret; callers pass reasons, names and ids only. */
  detail?: Record<string, unknown>;
}

/** Append-only security log. */
export class AuditRepo {
  readonly #insert;
  readonly #listAll;
  readonly #listUser;
  readonly #deleteBefore;
  readonly #search;

  constructor(db: Database) {
    // One statement for every filter combination: a NULL parameter means "any".
    this.#search = db.prepare<[{ username: string | null; event: string | null; protocol: string | null; limit: number }], Row>(
      `SELECT * FROM audit_events
       WHERE (@username IS NULL OR username = @username)
         AND (@event IS NULL OR event = @event OR event LIKE @event || '.%')
         AND (@protocol IS NULL OR protocol = @protocol)
       ORDER BY at DESC, id DESC LIMIT @limit`,
    );
    this.#insert = db.prepare<[number, string | null, string, string | null, string | null, string]>(
      'INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#listAll = db.prepare<[number], Row>('SELECT * FROM audit_events ORDER BY at DESC, id DESC LIMIT ?');
    this.#listUser = db.prepare<[string, number], Row>(
      'SELECT * FROM audit_events WHERE username = ? ORDER BY at DESC, id DESC LIMIT ?',
    );
    this.#deleteBefore = db.prepare<[number, number]>(
      'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)',
    );
  }

  /** Deletes at most `batch` events older than `at` (oldest first); returns how many. */
  deleteBefore(at: number, batch: number): number {
    return this.#deleteBefore.run(at, batch).changes;
  }

  insert(e: NewAuditEvent): number {
    return Number(
      this.#insert.run(
        e.at,
        e.username ?? null,
        e.event,
        e.protocol ?? null,
        e.ip ?? null,
        JSON.stringify(e.detail ?? {}),
      ).lastInsertRowid,
    );
  }

  /** Newest first, filtered: `event` matches itself and its sub-events ("login" matches "login.fail"). */
  search(opts: { username?: string; event?: string; protocol?: string; limit: number }): AuditEvent[] {
    return this.#search
      .all({ username: opts.username ?? null, event: opts.event ?? null, protocol: opts.protocol ?? null, limit: opts.limit })
      .map(toEvent);
  }

  /** Newest first. */
  list(opts: { username?: string; limit: number }): AuditEvent[] {
    const rows =
      opts.username === undefined ? this.#listAll.all(opts.limit) : this.#listUser.all(opts.username, opts.limit);
    return rows.map(toEvent);
  }
}
