import type { WebSessionsRepo } from '../store.js';
import type { NewWebSession, WebSession, WebSessionKind } from '../types.js';
import { toSession } from '../sqlite/web-sessions-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toSession>[0];

/** See WebSessionsRepo. */
export class PgWebSessionsRepo extends PgRepo implements WebSessionsRepo {
  insert(s: NewWebSession): Promise<number> {
    const sql = `INSERT INTO web_sessions (token_hash, kind, subject, stage, csrf_secret, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`;
    return this.insertId(sql, [s.tokenHash, s.kind, s.subject, s.stage, s.csrfSecret, s.createdAt, s.expiresAt]);
  }

  async findByTokenHash(tokenHash: string): Promise<WebSession | undefined> {
    const r = await this.one<Row>('SELECT * FROM web_sessions WHERE token_hash = $1', [tokenHash]);
    return r && toSession(r);
  }

  async touch(id: number, at: number): Promise<void> {
    await this.x.q('UPDATE web_sessions SET last_seen_at = $1 WHERE id = $2', [at, id]);
  }

  async setReauth(id: number, at: number): Promise<void> {
    await this.x.q('UPDATE web_sessions SET reauth_at = $1 WHERE id = $2', [at, id]);
  }

  async deleteByTokenHash(tokenHash: string): Promise<boolean> {
    return (await this.changed('DELETE FROM web_sessions WHERE token_hash = $1', [tokenHash])) === 1;
  }

  deleteForSubject(kind: WebSessionKind, subject: string): Promise<number> {
    return this.changed('DELETE FROM web_sessions WHERE kind = $1 AND subject = $2', [kind, subject]);
  }

  deleteExpired(now: number, idleBefore: number): Promise<number> {
    return this.changed('DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2', [now, idleBefore]);
  }

  async setDevice(tokenHash: string, deviceId: number): Promise<void> {
    await this.x.q('UPDATE web_sessions SET device_id = $1 WHERE token_hash = $2', [deviceId, tokenHash]);
  }

  deleteForDevices(deviceIds: readonly number[], exceptTokenHash = ''): Promise<number> {
    if (deviceIds.length === 0) return Promise.resolve(0);
    return this.changed('DELETE FROM web_sessions WHERE device_id = ANY($1::bigint[]) AND token_hash <> $2', [deviceIds, exceptTokenHash]);
  }
}
