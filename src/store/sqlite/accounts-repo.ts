import type { Database } from 'better-sqlite3';
import type { AccountListQuery, AccountListRow, RolloutCount } from '../console-store.js';
import type { AccountsRepo } from '../store.js';
import type { Account, AdminPolicy } from '../types.js';
import { accountConsoleStatements, accountPageSql, pageParams } from './account-pages.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  username: string;
  admin_policy: AdminPolicy;
  own_policy: number;
  twofa_state: Account['twofaState'];
  totp_secret_enc: Buffer | null;
  totp_last_step: number | null;
  created_at: number;
  updated_at: number;
}

export const toAccount = (r: Row): Account => ({
  id: r.id,
  username: r.username,
  adminPolicy: r.admin_policy,
  ownPolicy: r.own_policy === 1,
  twofaState: r.twofa_state,
  totpSecretEnc: r.totp_secret_enc,
  totpLastStep: r.totp_last_step,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The statements every login runs (test/unit/store-query-plans.test.ts checks they use indexes). */
export const ACCOUNT_LOGIN_SQL = {
  accountByName: 'SELECT * FROM accounts WHERE username = ?',
} as const;

/** Prepared once per connection; shared by the store's repository and every transaction's. */
export function accountStatements(db: Database) {
  return {
    listAll: db.prepare<[number], Row>('SELECT * FROM accounts ORDER BY username LIMIT ?'),
    byName: db.prepare<[string], Row>(ACCOUNT_LOGIN_SQL.accountByName),
    insert: db.prepare<[string, AdminPolicy, number, number]>(
      `INSERT INTO accounts (username, admin_policy, twofa_state, created_at, updated_at) VALUES (?, ?, 'off', ?, ?)`,
    ),
    setPolicy: db.prepare<[AdminPolicy, number, number]>('UPDATE accounts SET admin_policy = ?, updated_at = ? WHERE id = ?'),
    setPending: db.prepare<[Buffer, number, number]>(
      `UPDATE accounts SET twofa_state = 'pending', totp_secret_enc = ?, totp_last_step = NULL, updated_at = ? WHERE id = ?`,
    ),
    setOn: db.prepare<[number, number, number]>(
      `UPDATE accounts SET twofa_state = 'on', totp_last_step = ?, updated_at = ? WHERE id = ? AND twofa_state = 'pending'`,
    ),
    clear: db.prepare<[number, number]>(
      `UPDATE accounts SET twofa_state = 'off', totp_secret_enc = NULL, totp_last_step = NULL, updated_at = ? WHERE id = ?`,
    ),
    advance: db.prepare<[{ step: number; now: number; id: number }]>(
      `UPDATE accounts SET totp_last_step = @step, updated_at = @now
       WHERE id = @id AND twofa_state = 'on' AND (totp_last_step IS NULL OR totp_last_step < @step)`,
    ),
    console: accountConsoleStatements(db),
  };
}

/** See AccountsRepo. */
export class SqliteAccountsRepo extends SqliteRepo<ReturnType<typeof accountStatements>> implements AccountsRepo {
  findByUsername(username: string): Promise<Account | undefined> {
    return this.x.run(() => {
      const r = this.s.byName.get(username);
      return r && toAccount(r);
    });
  }

  listAll(limit: number): Promise<Account[]> {
    return this.x.run(() => this.s.listAll.all(limit).map(toAccount));
  }

  create(username: string, adminPolicy: AdminPolicy, now: number): Promise<Account> {
    return this.x.run(() => {
      this.s.insert.run(username, adminPolicy, now, now);
      const r = this.s.byName.get(username);
      if (!r) throw new Error('account vanished after insert');
      return toAccount(r);
    });
  }

  setAdminPolicy(id: number, policy: AdminPolicy, now: number): Promise<void> {
    return this.x.run(() => void this.s.setPolicy.run(policy, now, id));
  }

  setTotpPending(id: number, secretEnc: Buffer, now: number): Promise<void> {
    return this.x.run(() => void this.s.setPending.run(secretEnc, now, id));
  }

  setTwofaOn(id: number, confirmedStep: number, now: number): Promise<boolean> {
    return this.x.run(() => this.s.setOn.run(confirmedStep, now, id).changes === 1);
  }

  clearTwofa(id: number, now: number): Promise<void> {
    return this.x.run(() => void this.s.clear.run(now, id));
  }

  advanceTotpStep(id: number, step: number, now: number): Promise<boolean> {
    return this.x.run(() => this.s.advance.run({ step, now, id }).changes === 1);
  }

  listPage(q: AccountListQuery): Promise<AccountListRow[]> {
    const st = this.s.console.page(accountPageSql(q));
    return this.x.run(() => {
      const rows = (st.all(pageParams(q)) as (Row & { app_codes_n: number; devices_n: number })[]).map((r) => ({
        account: toAccount(r),
        appCodes: r.app_codes_n,
        trustedDevices: r.devices_n,
      }));
      return q.before !== undefined ? rows.reverse() : rows;
    });
  }

  rolloutCounts(): Promise<RolloutCount[]> {
    return this.x.run(() =>
      this.s.console.rollout.all().map((r) => ({ domain: r.domain, adminPolicy: r.admin_policy, twofaState: r.twofa_state, n: r.n })),
    );
  }

  setPolicy(id: number, policy: AdminPolicy, own: boolean, now: number): Promise<void> {
    return this.x.run(() => void this.s.console.setPolicy.run({ policy, own: own ? 1 : 0, now, id }));
  }

  syncDomainFollowers(domain: string, policy: AdminPolicy, now: number, batch: number): Promise<number> {
    return this.x.run(() => this.s.console.syncFollowers.run({ policy, now, domain, batch }).changes);
  }

  listDisallowedNotOff(domain: string, limit: number): Promise<Account[]> {
    return this.x.run(() => this.s.console.disallowedNotOff.all({ domain, limit }).map((r) => toAccount(r as unknown as Row)));
  }
}
