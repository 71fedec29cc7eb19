import type { AccountsRepo } from '../store.js';
import type { Account, AdminPolicy } from '../types.js';
import { toAccount } from '../sqlite/accounts-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toAccount>[0];

/** See AccountsRepo. */
export class PgAccountsRepo extends PgRepo implements AccountsRepo {
  async findByUsername(username: string): Promise<Account | undefined> {
    const r = await this.one<Row>('SELECT * FROM accounts WHERE username = $1', [username]);
    return r && toAccount(r);
  }

  async listAll(limit: number): Promise<Account[]> {
    return (await this.x.q<Row>('SELECT * FROM accounts ORDER BY username COLLATE "C" LIMIT $1', [limit])).rows.map(toAccount);
  }

  async create(username: string, adminPolicy: AdminPolicy, now: number): Promise<Account> {
    const r = await this.one<Row>(
      `INSERT INTO accounts (username, admin_policy, twofa_state, created_at, updated_at) VALUES ($1, $2, 'off', $3, $3) RETURNING *`,
      [username, adminPolicy, now],
    );
    if (!r) throw new Error('account vanished after insert');
    return toAccount(r);
  }

  async setAdminPolicy(id: number, policy: AdminPolicy, now: number): Promise<void> {
    await this.x.q('UPDATE accounts SET admin_policy = $1, updated_at = $2 WHERE id = $3', [policy, now, id]);
  }

  async setTotpPending(id: number, secretEnc: Buffer, now: number): Promise<void> {
    await this.x.q(`UPDATE accounts SET twofa_state = 'pending', totp_secret_enc = $1, totp_last_step = NULL, updated_at = $2 WHERE id = $3`, [
      secretEnc,
      now,
      id,
    ]);
  }

  async setTwofaOn(id: number, confirmedStep: number, now: number): Promise<boolean> {
    const sql = `UPDATE accounts SET twofa_state = 'on', totp_last_step = $1, updated_at = $2 WHERE id = $3 AND twofa_state = 'pending'`;
    return (await this.changed(sql, [confirmedStep, now, id])) === 1;
  }

  async clearTwofa(id: number, now: number): Promise<void> {
    await this.x.q(`UPDATE accounts SET twofa_state = 'off', totp_secret_enc = NULL, totp_last_step = NULL, updated_at = $1 WHERE id = $2`, [now, id]);
  }

  async advanceTotpStep(id: number, step: number, now: number): Promise<boolean> {
    const sql = `UPDATE accounts SET totp_last_step = $1, updated_at = $2
                 WHERE id = $3 AND twofa_state = 'on' AND (totp_last_step IS NULL OR totp_last_step < $1)`;
    return (await this.changed(sql, [step, now, id])) === 1;
  }
}
