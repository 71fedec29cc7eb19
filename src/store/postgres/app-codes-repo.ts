import type { AppCodesRepo, ExpiringAppCode } from '../store.js';
import type { AppCode, AppCodeUse, NewAppCode } from '../types.js';
import { toAppCode } from '../sqlite/app-codes-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toAppCode>[0];

/** The statements a login runs (by index: app_codes.lookup is unique, ids are primary keys). */
export const PG_APP_CODE_LOGIN_SQL = {
  activeByLookup: 'SELECT * FROM app_codes WHERE account_id = $1 AND lookup = $2 AND revoked_at IS NULL',
  stillValid: `SELECT c.id AS id FROM app_codes c JOIN accounts a ON a.id = c.account_id
               WHERE c.id = ANY($1::bigint[]) AND c.revoked_at IS NULL AND a.twofa_state = 'on'`,
} as const;

/** See AppCodesRepo. */
export class PgAppCodesRepo extends PgRepo implements AppCodesRepo {
  insert(c: NewAppCode): Promise<number> {
    const scopes = c.scopes === undefined || c.scopes === null ? null : c.scopes.join(',');
    if (scopes === '') return Promise.reject(new Error('an application code needs at least one scope (or null: every protocol)'));
    const sql = `INSERT INTO app_codes (account_id, name, lookup, hash, created_at, scopes, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`;
    return this.insertId(sql, [c.accountId, c.name, c.lookup, c.hash, c.createdAt, scopes, c.expiresAt ?? null]);
  }

  async findActiveByLookup(accountId: number, lookup: string): Promise<AppCode | undefined> {
    const r = await this.one<Row>(PG_APP_CODE_LOGIN_SQL.activeByLookup, [accountId, lookup]);
    return r && toAppCode(r);
  }

  async findActiveByName(accountId: number, name: string): Promise<AppCode | undefined> {
    const r = await this.one<Row>('SELECT * FROM app_codes WHERE account_id = $1 AND name = $2 AND revoked_at IS NULL', [accountId, name]);
    return r && toAppCode(r);
  }

  async listActive(accountId: number): Promise<AppCode[]> {
    const sql = 'SELECT * FROM app_codes WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id';
    return (await this.x.q<Row>(sql, [accountId])).rows.map(toAppCode);
  }

  async countActive(accountId: number): Promise<number> {
    return (await this.one<{ n: number }>('SELECT count(*) AS n FROM app_codes WHERE account_id = $1 AND revoked_at IS NULL', [accountId]))?.n ?? 0;
  }

  async markUsed(id: number, use: AppCodeUse): Promise<boolean> {
    const sql = `UPDATE app_codes SET last_used_at = $1, last_used_ip = $2, last_used_protocol = $3, last_used_client = $4
                 WHERE id = $5 AND revoked_at IS NULL`;
    return (await this.changed(sql, [use.at, use.ip, use.protocol, use.client, id])) === 1;
  }

  async revoke(id: number, at: number): Promise<boolean> {
    return (await this.changed('UPDATE app_codes SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) === 1;
  }

  revokeAllForAccount(accountId: number, at: number): Promise<number> {
    return this.changed('UPDATE app_codes SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL', [at, accountId]);
  }

  async stillValidAmong(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    return (await this.x.q<{ id: number }>(PG_APP_CODE_LOGIN_SQL.stillValid, [ids])).rows.map((r) => r.id);
  }

  async expiredAmong(ids: readonly number[], now: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const sql = 'SELECT id FROM app_codes WHERE id = ANY($1::bigint[]) AND expires_at IS NOT NULL AND expires_at <= $2';
    return (await this.x.q<{ id: number }>(sql, [ids, now])).rows.map((r) => r.id);
  }

  async expiringUnnoticed(after: number, before: number, limit: number): Promise<ExpiringAppCode[]> {
    const sql = `SELECT c.*, a.username AS username FROM app_codes c JOIN accounts a ON a.id = c.account_id
                 WHERE c.expires_at > $1 AND c.expires_at <= $2 AND c.revoked_at IS NULL AND c.expiry_notice_at IS NULL
                   AND c.expires_at IS NOT NULL AND a.twofa_state = 'on'
                 ORDER BY c.expires_at, c.id LIMIT $3`;
    return (await this.x.q<Row & { username: string }>(sql, [after, before, limit])).rows.map((r) => ({ ...toAppCode(r), username: r.username }));
  }

  async markExpiryNoticed(id: number, at: number): Promise<boolean> {
    return (await this.changed('UPDATE app_codes SET expiry_notice_at = $1 WHERE id = $2 AND expiry_notice_at IS NULL', [at, id])) === 1;
  }
}
