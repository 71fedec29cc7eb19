import type { Database } from 'better-sqlite3';
import type { AppCodesRepo } from '../store.js';
import type { AppCode, AppCodeUse, NewAppCode } from '../types.js';
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
    insert: db.prepare<[number, string, string, string, number]>(
      'INSERT INTO app_codes (account_id, name, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?)',
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
  };
}

/** See AppCodesRepo. */
export class SqliteAppCodesRepo extends SqliteRepo<ReturnType<typeof appCodeStatements>> implements AppCodesRepo {
  insert(c: NewAppCode): Promise<number> {
    return this.x.run(() => Number(this.s.insert.run(c.accountId, c.name, c.lookup, c.hash, c.createdAt).lastInsertRowid));
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
}
