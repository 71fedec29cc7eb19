import type { Database } from 'better-sqlite3';
import type { OneTimeCodesRepo } from '../store.js';
import type { NewOneTimeCode, OneTimeCode } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  account_id: number;
  lookup: string;
  secret_enc: Buffer;
  created_at: number;
  used_at: number | null;
}

export const toOneTimeCode = (r: Row): OneTimeCode => ({
  id: r.id,
  accountId: r.account_id,
  lookup: r.lookup,
  secretEnc: r.secret_enc,
  createdAt: r.created_at,
  usedAt: r.used_at,
});

export function oneTimeCodeStatements(db: Database) {
  return {
    insert: db.prepare<[number, string, Buffer, number]>(
      'INSERT INTO one_time_codes (account_id, lookup, secret_enc, created_at) VALUES (?, ?, ?, ?)',
    ),
    byLookup: db.prepare<[number, string], Row>('SELECT * FROM one_time_codes WHERE account_id = ? AND lookup = ? AND used_at IS NULL'),
    list: db.prepare<[number], Row>('SELECT * FROM one_time_codes WHERE account_id = ? ORDER BY id'),
    countUnused: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM one_time_codes WHERE account_id = ? AND used_at IS NULL'),
    markUsed: db.prepare<[number, number]>('UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL'),
    deleteAll: db.prepare<[number]>('DELETE FROM one_time_codes WHERE account_id = ?'),
  };
}

/** See OneTimeCodesRepo. */
export class SqliteOneTimeCodesRepo extends SqliteRepo<ReturnType<typeof oneTimeCodeStatements>> implements OneTimeCodesRepo {
  insert(c: NewOneTimeCode): Promise<number> {
    return this.x.run(() => Number(this.s.insert.run(c.accountId, c.lookup, c.secretEnc, c.createdAt).lastInsertRowid));
  }

  findUnusedByLookup(accountId: number, lookup: string): Promise<OneTimeCode | undefined> {
    return this.x.run(() => {
      const r = this.s.byLookup.get(accountId, lookup);
      return r && toOneTimeCode(r);
    });
  }

  listForAccount(accountId: number): Promise<OneTimeCode[]> {
    return this.x.run(() => this.s.list.all(accountId).map(toOneTimeCode));
  }

  countUnused(accountId: number): Promise<number> {
    return this.x.run(() => this.s.countUnused.get(accountId)?.n ?? 0);
  }

  markUsed(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.markUsed.run(at, id).changes === 1);
  }

  deleteForAccount(accountId: number): Promise<number> {
    return this.x.run(() => this.s.deleteAll.run(accountId).changes);
  }
}
