import type { Database } from 'better-sqlite3';
import type { TrustedDevice } from './types.js';

interface Row {
  id: number;
  account_id: number;
  token_hash: string;
  label: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

const toTrustedDevice = (r: Row): TrustedDevice => ({
  id: r.id,
  accountId: r.account_id,
  tokenHash: r.token_hash,
  label: r.label,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  revokedAt: r.revoked_at,
});

export interface NewTrustedDevice {
  accountId: number;
  tokenHash: string;
  label: string;
  createdAt: number;
}

/** Devices ("trust this computer") that skip the second factor. Every call reads the database. */
export class TrustedDevicesRepo {
  readonly #insert;
  readonly #byToken;
  readonly #list;
  readonly #count;
  readonly #touch;
  readonly #revokeAll;
  readonly #revokeAllExcept;
  readonly #revokeOne;

  constructor(db: Database) {
    this.#revokeOne = db.prepare<[number, number]>('UPDATE trusted_devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.#insert = db.prepare<[number, string, string, number]>(
      'INSERT INTO trusted_devices (account_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#byToken = db.prepare<[number, string], Row>(
      'SELECT * FROM trusted_devices WHERE account_id = ? AND token_hash = ? AND revoked_at IS NULL',
    );
    this.#list = db.prepare<[number], Row>(
      'SELECT * FROM trusted_devices WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id',
    );
    this.#count = db.prepare<[number], { n: number }>(
      'SELECT count(*) AS n FROM trusted_devices WHERE account_id = ? AND revoked_at IS NULL',
    );
    this.#touch = db.prepare<[number, number]>(
      'UPDATE trusted_devices SET last_seen_at = ? WHERE id = ? AND revoked_at IS NULL',
    );
    this.#revokeAll = db.prepare<[number, number]>(
      'UPDATE trusted_devices SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL',
    );
    this.#revokeAllExcept = db.prepare<[number, number, number]>(
      'UPDATE trusted_devices SET revoked_at = ? WHERE account_id = ? AND id != ? AND revoked_at IS NULL',
    );
  }

  insert(d: NewTrustedDevice): number {
    return Number(this.#insert.run(d.accountId, d.tokenHash, d.label, d.createdAt).lastInsertRowid);
  }

  findActive(accountId: number, tokenHash: string): TrustedDevice | undefined {
    const r = this.#byToken.get(accountId, tokenHash);
    return r && toTrustedDevice(r);
  }

  listActive(accountId: number): TrustedDevice[] {
    return this.#list.all(accountId).map(toTrustedDevice);
  }

  countActive(accountId: number): number {
    return this.#count.get(accountId)?.n ?? 0;
  }

  touch(id: number, at: number): boolean {
    return this.#touch.run(at, id).changes === 1;
  }

  revoke(id: number, at: number): boolean {
    return this.#revokeOne.run(at, id).changes === 1;
  }

  /** Revoke every active device of the account, or every one but `exceptId`. */
  revokeAllForAccount(accountId: number, at: number, exceptId?: number): number {
    return exceptId === undefined
      ? this.#revokeAll.run(at, accountId).changes
      : this.#revokeAllExcept.run(at, accountId, exceptId).changes;
  }
}
