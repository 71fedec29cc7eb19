import type { Database } from 'better-sqlite3';
import type { WebSession, WebSessionKind, WebSessionStage } from './types.js';

interface Row {
  id: number;
  token_hash: string;
  kind: WebSessionKind;
  subject: string;
  stage: WebSessionStage;
  csrf_secret: string;
  reauth_at: number | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

const toSession = (r: Row): WebSession => ({
  id: r.id,
  tokenHash: r.token_hash,
  kind: r.kind,
  subject: r.subject,
  stage: r.stage,
  csrfSecret: r.csrf_secret,
  reauthAt: r.reauth_at,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
});

export interface NewWebSession {
  tokenHash: string;
  kind: WebSessionKind;
  subject: string;
  stage: WebSessionStage;
  csrfSecret: string;
  createdAt: number;
  expiresAt: number;
}

/** Web portal sessions, keyed by the SHA-256 of the cookie token. Every call reads the database. */
export class WebSessionsRepo {
  readonly #insert;
  readonly #byHash;
  readonly #touch;
  readonly #setReauth;
  readonly #delete;
  readonly #deleteSubject;
  readonly #deleteExpired;

  constructor(db: Database) {
    this.#insert = db.prepare<[string, WebSessionKind, string, WebSessionStage, string, number, number, number]>(
      `INSERT INTO web_sessions (token_hash, kind, subject, stage, csrf_secret, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#byHash = db.prepare<[string], Row>('SELECT * FROM web_sessions WHERE token_hash = ?');
    this.#touch = db.prepare<[number, number]>('UPDATE web_sessions SET last_seen_at = ? WHERE id = ?');
    this.#setReauth = db.prepare<[number, number]>('UPDATE web_sessions SET reauth_at = ? WHERE id = ?');
    this.#delete = db.prepare<[string]>('DELETE FROM web_sessions WHERE token_hash = ?');
    this.#deleteSubject = db.prepare<[WebSessionKind, string]>('DELETE FROM web_sessions WHERE kind = ? AND subject = ?');
    this.#deleteExpired = db.prepare<[number, number]>('DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ?');
  }

  insert(s: NewWebSession): number {
    return Number(
      this.#insert.run(s.tokenHash, s.kind, s.subject, s.stage, s.csrfSecret, s.createdAt, s.createdAt, s.expiresAt)
        .lastInsertRowid,
    );
  }

  findByTokenHash(tokenHash: string): WebSession | undefined {
    const r = this.#byHash.get(tokenHash);
    return r && toSession(r);
  }

  touch(id: number, at: number): void {
    this.#touch.run(at, id);
  }

  setReauth(id: number, at: number): void {
    this.#setReauth.run(at, id);
  }

  deleteByTokenHash(tokenHash: string): boolean {
    return this.#delete.run(tokenHash).changes === 1;
  }

  /** Sign out everywhere: every session of this user (or admin). */
  deleteForSubject(kind: WebSessionKind, subject: string): number {
    return this.#deleteSubject.run(kind, subject).changes;
  }

  /** Sessions past their deadline, or last seen at or before `idleBefore`. */
  deleteExpired(now: number, idleBefore: number): number {
    return this.#deleteExpired.run(now, idleBefore).changes;
  }
}
