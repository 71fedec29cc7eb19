import type { OneTimeCodesRepo } from '../store.js';
import type { NewOneTimeCode, OneTimeCode } from '../types.js';
import { toOneTimeCode } from '../sqlite/one-time-codes-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toOneTimeCode>[0];

/** See OneTimeCodesRepo. */
export class PgOneTimeCodesRepo extends PgRepo implements OneTimeCodesRepo {
  insert(c: NewOneTimeCode): Promise<number> {
    const sql = 'INSERT INTO one_time_codes (account_id, lookup, secret_enc, created_at) VALUES ($1, $2, $3, $4) RETURNING id';
    return this.insertId(sql, [c.accountId, c.lookup, c.secretEnc, c.createdAt]);
  }

  async findUnusedByLookup(accountId: number, lookup: string): Promise<OneTimeCode | undefined> {
    const r = await this.one<Row>('SELECT * FROM one_time_codes WHERE account_id = $1 AND lookup = $2 AND used_at IS NULL', [accountId, lookup]);
    return r && toOneTimeCode(r);
  }

  async listForAccount(accountId: number): Promise<OneTimeCode[]> {
    return (await this.x.q<Row>('SELECT * FROM one_time_codes WHERE account_id = $1 ORDER BY id', [accountId])).rows.map(toOneTimeCode);
  }

  async countUnused(accountId: number): Promise<number> {
    return (await this.one<{ n: number }>('SELECT count(*) AS n FROM one_time_codes WHERE account_id = $1 AND used_at IS NULL', [accountId]))?.n ?? 0;
  }

  async markUsed(id: number, at: number): Promise<boolean> {
    return (await this.changed('UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL', [at, id])) === 1;
  }

  deleteForAccount(accountId: number): Promise<number> {
    return this.changed('DELETE FROM one_time_codes WHERE account_id = $1', [accountId]);
  }
}
