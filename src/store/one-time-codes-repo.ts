import type { Database } from 'better-sqlite3';
import type { OneTimeCode } from './types.js';

interface Row {
  id: number;
  account_id: number;
  lookup: string;
  secret_enc: Buffer;
  created_at: number;
  used_at: number | null;
}

const toOneTimeCode = (r: Row): OneTimeCode => ({
  id: r.id,
  accountId: r.account_id,
  lookup: r.lookup,
  secretEnc: r.secret_enc,
  createdAt: r.created_at,
  usedAt: r.used_at,
});

export interface NewOneTimeCode {
  accountId: number;
  lookup: string;
  secretEnc: Buffer;
  createdAt: number;
}

/** One-time (recovery) codes. Every call reads the database (no cache). */
export class OneTimeCodesRepo {
  readonly #insert;
  readonly #byLookup;
  readonly #list;
  readonly #countUnused;
  readonly #markUsed;
  readonly #deleteAll;

  constructor(db: Database) {
    this.#insert = db.prepare<[number, string, Buffer, number]>(
      'INSERT INTO one_time_codes (account_id, lookup, secret_enc, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#byLookup = db.prepare<[number, string], Row>(
      'SELECT * FROM one_time_codes WHERE account_id = ? AND lookup = ? AND used_at IS NULL',
    );
    this.#list = db.prepare<[number], Row>('SELECT * FROM one_time_codes WHERE account_id = ? ORDER BY id');
    this.#countUnused = db.prepare<[number], { n: number }>(
      'SELECT count(*) AS n FROM one_time_codes WHERE account_id = ? AND used_at IS NULL',
    );
    this.#markUsed = db.prepare<[number, number]>(
      'UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL',
    );
    this.#deleteAll = db.prepare<[number]>('DELETE FROM one_time_codes WHERE account_id = ?');
  }

  insert(c: NewOneTimeCode): number {
    return Number(this.#insert.run(c.accountId, c.lookup, c.secretEnc, c.createdAt).lastInsertRowid);
  }

  findUnusedByLookup(accountId: number, lookup: string): OneTimeCode | undefined {
    const r = this.#byLookup.get(accountId, lookup);
    return r && toOneTimeCode(r);
  }

  listForAccount(accountId: number): OneTimeCode[] {
    return this.#list.all(accountId).map(toOneTimeCode);
  }

  countUnused(accountId: number): number {
    return this.#countUnused.get(accountId)?.n ?? 0;
  }

  /** Consume a code. False if it was already used (a concurrent use won). */
  markUsed(id: number, at: number): boolean {
    return this.#markUsed.run(at, id).changes === 1;
  }

  deleteForAccount(accountId: number): number {
    return this.#deleteAll.run(accountId).changes;
  }
}
