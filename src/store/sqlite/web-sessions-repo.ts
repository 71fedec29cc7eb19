import type { Database } from 'better-sqlite3';
import type { WebSessionsRepo } from '../store.js';
import type { NewWebSession, WebSession, WebSessionKind, WebSessionStage } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

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

export function webSessionStatements(db: Database) {
  return {
    insert: db.prepare<[string, WebSessionKind, string, WebSessionStage, string, number, number, number]>(
      `INSERT INTO web_sessions (token_hash, kind, subject, stage, csrf_secret, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    byHash: db.prepare<[string], Row>('SELECT * FROM web_sessions WHERE token_hash = ?'),
    touch: db.prepare<[number, number]>('UPDATE web_sessions SET last_seen_at = ? WHERE id = ?'),
    setReauth: db.prepare<[number, number]>('UPDATE web_sessions SET reauth_at = ? WHERE id = ?'),
    delete: db.prepare<[string]>('DELETE FROM web_sessions WHERE token_hash = ?'),
    deleteSubject: db.prepare<[WebSessionKind, string]>('DELETE FROM web_sessions WHERE kind = ? AND subject = ?'),
    deleteExpired: db.prepare<[number, number]>('DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ?'),
    setDevice: db.prepare<[number, string]>('UPDATE web_sessions SET device_id = ? WHERE token_hash = ?'),
    deleteForDevices: db.prepare<[string, string]>(
      'DELETE FROM web_sessions WHERE device_id IN (SELECT value FROM json_each(?)) AND token_hash != ?',
    ),
  };
}

/** See WebSessionsRepo. */
export class SqliteWebSessionsRepo extends SqliteRepo<ReturnType<typeof webSessionStatements>> implements WebSessionsRepo {
  insert(s: NewWebSession): Promise<number> {
    return this.x.run(() =>
      Number(this.s.insert.run(s.tokenHash, s.kind, s.subject, s.stage, s.csrfSecret, s.createdAt, s.createdAt, s.expiresAt).lastInsertRowid),
    );
  }

  findByTokenHash(tokenHash: string): Promise<WebSession | undefined> {
    return this.x.run(() => {
      const r = this.s.byHash.get(tokenHash);
      return r && toSession(r);
    });
  }

  touch(id: number, at: number): Promise<void> {
    return this.x.run(() => void this.s.touch.run(at, id));
  }

  setReauth(id: number, at: number): Promise<void> {
    return this.x.run(() => void this.s.setReauth.run(at, id));
  }

  deleteByTokenHash(tokenHash: string): Promise<boolean> {
    return this.x.run(() => this.s.delete.run(tokenHash).changes === 1);
  }

  deleteForSubject(kind: WebSessionKind, subject: string): Promise<number> {
    return this.x.run(() => this.s.deleteSubject.run(kind, subject).changes);
  }

  deleteExpired(now: number, idleBefore: number): Promise<number> {
    return this.x.run(() => this.s.deleteExpired.run(now, idleBefore).changes);
  }

  setDevice(tokenHash: string, deviceId: number): Promise<void> {
    return this.x.run(() => void this.s.setDevice.run(deviceId, tokenHash));
  }

  deleteForDevices(deviceIds: readonly number[], exceptTokenHash = ''): Promise<number> {
    if (deviceIds.length === 0) return Promise.resolve(0);
    return this.x.run(() => this.s.deleteForDevices.run(JSON.stringify(deviceIds), exceptTokenHash).changes);
  }
}
