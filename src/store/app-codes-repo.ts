import type { Database } from 'better-sqlite3';
import type { AppCode } from './types.js';

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

const toAppCode = (r: Row): AppCode => ({
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

export interface NewAppCode {
  accountId: number;
  name: string;
  lookup: string;
  hash: string;
  createdAt: number;
}

export interface AppCodeUse {
  at: number;
  ip: string;
  protocol: string;
  client: string | null;
}

/** The statements a login runs (test/unit/store-query-plans.test.ts checks they use indexes). */
export const APP_CODE_LOGIN_SQL = {
  activeByLookup: 'SELECT * FROM app_codes WHERE account_id = ? AND lookup = ? AND revoked_at IS NULL',
  // The ids travel as one JSON array: one prepared statement for any number of them.
  // Both lookups are by INTEGER PRIMARY KEY (app_codes.id, then accounts.id).
  stillValid: `SELECT c.id AS id FROM app_codes c JOIN accounts a ON a.id = c.account_id
       WHERE c.id IN (SELECT value FROM json_each(?)) AND c.revoked_at IS NULL AND a.twofa_state = 'on'`,
} as const;

/** Application codes. "Active" means not revoked. Every call reads the database (no cache). */
export class AppCodesRepo {
  readonly #insert;
  readonly #byLookup;
  readonly #byName;
  readonly #list;
  readonly #count;
  readonly #markUsed;
  readonly #revoke;
  readonly #revokeAll;
  readonly #stillValid;

  constructor(db: Database) {
    this.#insert = db.prepare<[number, string, string, string, number]>(
      'INSERT INTO app_codes (account_id, name, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#byLookup = db.prepare<[number, string], Row>(APP_CODE_LOGIN_SQL.activeByLookup);
    this.#byName = db.prepare<[number, string], Row>(
      'SELECT * FROM app_codes WHERE account_id = ? AND name = ? AND revoked_at IS NULL',
    );
    this.#list = db.prepare<[number], Row>(
      'SELECT * FROM app_codes WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id',
    );
    this.#count = db.prepare<[number], { n: number }>(
      'SELECT count(*) AS n FROM app_codes WHERE account_id = ? AND revoked_at IS NULL',
    );
    this.#markUsed = db.prepare<[number, string, string, string | null, number]>(
      `UPDATE app_codes SET last_used_at = ?, last_used_ip = ?, last_used_protocol = ?, last_used_client = ?
       WHERE id = ? AND revoked_at IS NULL`,
    );
    this.#revoke = db.prepare<[number, number]>(
      'UPDATE app_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
    );
    this.#revokeAll = db.prepare<[number, number]>(
      'UPDATE app_codes SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL',
    );
    this.#stillValid = db.prepare<[string], { id: number }>(APP_CODE_LOGIN_SQL.stillValid);
  }

  insert(c: NewAppCode): number {
    return Number(this.#insert.run(c.accountId, c.name, c.lookup, c.hash, c.createdAt).lastInsertRowid);
  }

  findActiveByLookup(accountId: number, lookup: string): AppCode | undefined {
    const r = this.#byLookup.get(accountId, lookup);
    return r && toAppCode(r);
  }

  findActiveByName(accountId: number, name: string): AppCode | undefined {
    const r = this.#byName.get(accountId, name);
    return r && toAppCode(r);
  }

  listActive(accountId: number): AppCode[] {
    return this.#list.all(accountId).map(toAppCode);
  }

  countActive(accountId: number): number {
    return this.#count.get(accountId)?.n ?? 0;
  }

  /** Record a successful use. False if the code was revoked meanwhile (the login must then fail). */
  markUsed(id: number, use: AppCodeUse): boolean {
    return this.#markUsed.run(use.at, use.ip, use.protocol, use.client, id).changes === 1;
  }

  revoke(id: number, at: number): boolean {
    return this.#revoke.run(at, id).changes === 1;
  }

  revokeAllForAccount(accountId: number, at: number): number {
    return this.#revokeAll.run(at, accountId).changes;
  }

  /**
   * Of these ids, those that still sign in: not revoked, and their account's two-step
   * authentication is on (a login with a code is only accepted then). One query.
   */
  stillValidAmong(ids: readonly number[]): number[] {
    if (ids.length === 0) return [];
    return this.#stillValid.all(JSON.stringify(ids)).map((r) => r.id);
  }
}
