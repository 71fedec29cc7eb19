import type { AccountListQuery, AccountListRow, RolloutCount } from '../console-store.js';
import type { AccountsRepo } from '../store.js';
import type { Account, AdminPolicy } from '../types.js';
import { toAccount } from '../sqlite/accounts-repo.js';
import { pgAccountPage } from './console-sql.js';
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

  async listPage(q: AccountListQuery): Promise<AccountListRow[]> {
    const { text, values } = pgAccountPage(q);
    const rows = (await this.x.q<Row & { app_codes_n: number; devices_n: number }>(text, values, false)).rows.map((r) => ({
      account: toAccount(r),
      appCodes: Number(r.app_codes_n),
      trustedDevices: Number(r.devices_n),
    }));
    return q.before !== undefined ? rows.reverse() : rows;
  }

  async rolloutCounts(): Promise<RolloutCount[]> {
    const sql = 'SELECT domain, admin_policy, twofa_state, count(*) AS n FROM accounts GROUP BY domain, admin_policy, twofa_state';
    const rows = await this.x.q<{ domain: string; admin_policy: AdminPolicy; twofa_state: Account['twofaState']; n: number }>(sql);
    return rows.rows.map((r) => ({ domain: r.domain, adminPolicy: r.admin_policy, twofaState: r.twofa_state, n: Number(r.n) }));
  }

  async setPolicy(id: number, policy: AdminPolicy, own: boolean, now: number): Promise<void> {
    await this.x.q('UPDATE accounts SET admin_policy = $1, own_policy = $2, updated_at = $3 WHERE id = $4', [policy, own ? 1 : 0, now, id]);
  }

  syncDomainFollowers(domain: string, policy: AdminPolicy, now: number, batch: number): Promise<number> {
    const sql = `UPDATE accounts SET admin_policy = $1, updated_at = $2 WHERE id IN (
                   SELECT id FROM accounts WHERE domain = $3 AND own_policy = 0 AND admin_policy <> $1 LIMIT $4)`;
    return this.changed(sql, [policy, now, domain, batch]);
  }

  async listDisallowedNotOff(domain: string, limit: number): Promise<Account[]> {
    const sql = `SELECT * FROM accounts WHERE domain = $1 AND admin_policy = 'disallowed' AND twofa_state <> 'off' LIMIT $2`;
    return (await this.x.q<Row>(sql, [domain, limit])).rows.map(toAccount);
  }
}
