import type { Database } from 'better-sqlite3';
import type { Account, AdminPolicy } from './types.js';

interface Row {
  id: number;
  username: string;
  admin_policy: AdminPolicy;
  twofa_state: Account['twofaState'];
  totp_secret_enc: Buffer | null;
  totp_last_step: number | null;
  created_at: number;
  updated_at: number;
}

const toAccount = (r: Row): Account => ({
  id: r.id,
  username: r.username,
  adminPolicy: r.admin_policy,
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

/** Accounts keyed by lowercased user name. Every call reads the database (no cache). */
export class AccountsRepo {
  readonly #byName;
  readonly #insert;
  readonly #setPolicy;
  readonly #setPending;
  readonly #setOn;
  readonly #clear;
  readonly #advance;
  readonly #listAll;

  constructor(db: Database) {
    this.#listAll = db.prepare<[number], Row>('SELECT * FROM accounts ORDER BY username LIMIT ?');
    this.#byName = db.prepare<[string], Row>(ACCOUNT_LOGIN_SQL.accountByName);
    this.#insert = db.prepare<[string, AdminPolicy, number, number]>(
      `INSERT INTO accounts (username, admin_policy, twofa_state, created_at, updated_at) VALUES (?, ?, 'off', ?, ?)`,
    );
    this.#setPolicy = db.prepare<[AdminPolicy, number, number]>(
      'UPDATE accounts SET admin_policy = ?, updated_at = ? WHERE id = ?',
    );
    this.#setPending = db.prepare<[Buffer, number, number]>(
      `UPDATE accounts SET twofa_state = 'pending', totp_secret_enc = ?, totp_last_step = NULL, updated_at = ? WHERE id = ?`,
    );
    this.#setOn = db.prepare<[number, number, number]>(
      `UPDATE accounts SET twofa_state = 'on', totp_last_step = ?, updated_at = ? WHERE id = ? AND twofa_state = 'pending'`,
    );
    this.#clear = db.prepare<[number, number]>(
      `UPDATE accounts SET twofa_state = 'off', totp_secret_enc = NULL, totp_last_step = NULL, updated_at = ? WHERE id = ?`,
    );
    this.#advance = db.prepare<[{ step: number; now: number; id: number }]>(
      `UPDATE accounts SET totp_last_step = @step, updated_at = @now
       WHERE id = @id AND twofa_state = 'on' AND (totp_last_step IS NULL OR totp_last_step < @step)`,
    );
  }

  findByUsername(username: string): Account | undefined {
    const r = this.#byName.get(username);
    return r && toAccount(r);
  }

  /** Every account, by name, at most `limit` (the admin console's user list). */
  listAll(limit: number): Account[] {
    return this.#listAll.all(limit).map(toAccount);
  }

  create(username: string, adminPolicy: AdminPolicy, now: number): Account {
    this.#insert.run(username, adminPolicy, now, now);
    const a = this.findByUsername(username);
    if (!a) throw new Error('account vanished after insert');
    return a;
  }

  setAdminPolicy(id: number, policy: AdminPolicy, now: number): void {
    this.#setPolicy.run(policy, now, id);
  }

  /** State 'pending' with a new encrypted TOTP key (replaces any earlier pending key). */
  setTotpPending(id: number, secretEnc: Buffer, now: number): void {
    this.#setPending.run(secretEnc, now, id);
  }

  /** pending → on, recording the confirmed step. False if the account was no longer pending. */
  setTwofaOn(id: number, confirmedStep: number, now: number): boolean {
    return this.#setOn.run(confirmedStep, now, id).changes === 1;
  }

  /** State 'off'; TOTP key and last step wiped. */
  clearTwofa(id: number, now: number): void {
    this.#clear.run(now, id);
  }

  /**
   * Record `step` as the last accepted TOTP step, atomically and only if it is newer than the
   * stored one. False means a replay (or 2FA went off meanwhile).
   */
  advanceTotpStep(id: number, step: number, now: number): boolean {
    return this.#advance.run({ step, now, id }).changes === 1;
  }
}
