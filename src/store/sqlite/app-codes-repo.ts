import type { Database } from 'better-sqlite3';
import type { AppCodesRepo, ExpiringAppCode } from '../store.js';
import type { AppCode, AppCodeScope, AppCodeUse, NewAppCode } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  account_id: number;
  name: string;
  lookup: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
  last_used_protocol: string | null;
  last_used_client: string | null;
  revoked_at: number | null;
  scopes: string | null;
  expires_at: number | null;
  expiry_notice_at: number | null;
}

const SCOPES: readonly string[] = ['imap', 'pop3', 'smtp'] satisfies AppCodeScope[];

/** 'imap,smtp' → ['imap', 'smtp']; NULL (or nothing known) → null (every protocol). */
function scopesOf(text: string | null): AppCodeScope[] | null {
  if (text === null) return null;
  const list = text.split(',').filter((s): s is AppCodeScope => SCOPES.includes(s));
  return list.length === 0 ? null : list;
}

export const toAppCode = (r: Row): AppCode => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  lookup: r.lookup,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  lastUsedIp: r.last_used_ip,
  lastUsedProtocol: r.last_used_protocol,
  lastUsedClient: r.last_used_client,
  revokedAt: r.revoked_at,
  scopes: scopesOf(r.scopes),
  expiresAt: r.expires_at,
  expiryNoticeAt: r.expiry_notice_at,
});

/** The statements a login runs (test/unit/store-query-plans.test.ts checks they use indexes). */
export const APP_CODE_LOGIN_SQL = {
  activeByLookup: 'SELECT * FROM app_codes WHERE account_id = ? AND lookup = ? AND revoked_at IS NULL',
  // The ids travel as one JSON array: one prepared statement for any number of them.
  // Both lookups are by INTEGER PRIMARY KEY (app_codes.id, then accounts.id).
  stillValid: `SELECT c.id AS id FROM app_codes c JOIN accounts a ON a.id = c.account_id
       WHERE c.id IN (SELECT value FROM json_each(?)) AND c.revoked_at IS NULL AND a.twofa_state = 'on'`,
} as const;

export function appCodeStatements(db: Database) {
  return {
    insert: db.prepare<[number, string, string, string, number, string | null, number | null]>(
      'INSERT INTO app_codes (account_id, name, lookup, hash, created_at, scopes, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    byLookup: db.prepare<[number, string], Row>(APP_CODE_LOGIN_SQL.activeByLookup),
    byName: db.prepare<[number, string], Row>('SELECT * FROM app_codes WHERE account_id = ? AND name = ? AND revoked_at IS NULL'),
    list: db.prepare<[number], Row>('SELECT * FROM app_codes WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id'),
    count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM app_codes WHERE account_id = ? AND revoked_at IS NULL'),
    markUsed: db.prepare<[number, string, string, string | null, number]>(
      `UPDATE app_codes SET last_used_at = ?, last_used_ip = ?, last_used_protocol = ?, last_used_client = ?
       WHERE id = ? AND revoked_at IS NULL`,
    ),
    revoke: db.prepare<[number, number]>('UPDATE app_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    revokeAll: db.prepare<[number, number]>('UPDATE app_codes SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL'),
    stillValid: db.prepare<[string], { id: number }>(APP_CODE_LOGIN_SQL.stillValid),
    expired: db.prepare<[string, number], { id: number }>(
      'SELECT id FROM app_codes WHERE id IN (SELECT value FROM json_each(?)) AND expires_at IS NOT NULL AND expires_at <= ?',
    ),
    expiring: db.prepare<[number, number, number], Row & { username: string }>(
      `SELECT c.*, a.username AS username FROM app_codes c JOIN accounts a ON a.id = c.account_id
       WHERE c.expires_at > ? AND c.expires_at <= ? AND c.revoked_at IS NULL AND c.expiry_notice_at IS NULL
         AND c.expires_at IS NOT NULL AND a.twofa_state = 'on'
       ORDER BY c.expires_at, c.id LIMIT ?`,
    ),
    markExpiryNoticed: db.prepare<[number, number]>('UPDATE app_codes SET expiry_notice_at = ? WHERE id = ? AND expiry_notice_at IS NULL'),
  };
}

/** See AppCodesRepo. */
export class SqliteAppCodesRepo extends SqliteRepo<ReturnType<typeof appCodeStatements>> implements AppCodesRepo {
  insert(c: NewAppCode): Promise<number> {
    const scopes = c.scopes === undefined || c.scopes === null ? null : c.scopes.join(',');
    if (scopes === '') return Promise.reject(new Error('an application code needs at least one scope (or null: every protocol)'));
    return this.x.run(() => Number(this.s.insert.run(c.accountId, c.name, c.lookup, c.hash, c.createdAt, scopes, c.expiresAt ?? null).lastInsertRowid));
  }

  findActiveByLookup(accountId: number, lookup: string): Promise<AppCode | undefined> {
    return this.x.run(() => {
      const r = this.s.byLookup.get(accountId, lookup);
      return r && toAppCode(r);
    });
  }

  findActiveByName(accountId: number, name: string): Promise<AppCode | undefined> {
    return this.x.run(() => {
      const r = this.s.byName.get(accountId, name);
      return r && toAppCode(r);
    });
  }

  listActive(accountId: number): Promise<AppCode[]> {
    return this.x.run(() => this.s.list.all(accountId).map(toAppCode));
  }

  countActive(accountId: number): Promise<number> {
    return this.x.run(() => this.s.count.get(accountId)?.n ?? 0);
  }

  markUsed(id: number, use: AppCodeUse): Promise<boolean> {
    return this.x.run(() => this.s.markUsed.run(use.at, use.ip, use.protocol, use.client, id).changes === 1);
  }

  revoke(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.revoke.run(at, id).changes === 1);
  }

  revokeAllForAccount(accountId: number, at: number): Promise<number> {
    return this.x.run(() => this.s.revokeAll.run(at, accountId).changes);
  }

  stillValidAmong(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.x.run(() => this.s.stillValid.all(JSON.stringify(ids)).map((r) => r.id));
  }

  expiredAmong(ids: readonly number[], now: number): Promise<number[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.x.run(() => this.s.expired.all(JSON.stringify(ids), now).map((r) => r.id));
  }

  expiringUnnoticed(after: number, before: number, limit: number): Promise<ExpiringAppCode[]> {
    return this.x.run(() => this.s.expiring.all(after, before, limit).map((r) => ({ ...toAppCode(r), username: r.username })));
  }

  markExpiryNoticed(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.markExpiryNoticed.run(at, id).changes === 1);
  }
}
