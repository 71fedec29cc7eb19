import type { Database } from 'better-sqlite3';
import type { AdminAccount } from './types.js';

interface Row {
  id: number;
  name: string;
  password_hash: string;
  totp_secret_enc: Buffer;
  totp_last_step: number | null;
  created_at: number;
  updated_at: number;
}

const toAdmin = (r: Row): AdminAccount => ({
  id: r.id,
  name: r.name,
  passwordHash: r.password_hash,
  totpSecretEnc: r.totp_secret_enc,
  totpLastStep: r.totp_last_step,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Admin console accounts (not mail users). Every call reads the database. */
export class AdminsRepo {
  readonly #byName;
  readonly #list;
  readonly #insert;
  readonly #setPassword;
  readonly #setTotp;
  readonly #advance;
  readonly #delete;

  constructor(db: Database) {
    this.#byName = db.prepare<[string], Row>('SELECT * FROM admins WHERE name = ?');
    this.#list = db.prepare<[], Row>('SELECT * FROM admins ORDER BY name');
    this.#insert = db.prepare<[string, string, Buffer, number, number]>(
      'INSERT INTO admins (name, password_hash, totp_secret_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#setPassword = db.prepare<[string, number, number]>('UPDATE admins SET password_hash = ?, updated_at = ? WHERE id = ?');
    this.#setTotp = db.prepare<[Buffer, number, number]>(
      'UPDATE admins SET totp_secret_enc = ?, totp_last_step = NULL, updated_at = ? WHERE id = ?',
    );
    this.#advance = db.prepare<[{ step: number; now: number; id: number }]>(
      `UPDATE admins SET totp_last_step = @step, updated_at = @now
       WHERE id = @id AND (totp_last_step IS NULL OR totp_last_step < @step)`,
    );
    this.#delete = db.prepare<[number]>('DELETE FROM admins WHERE id = ?');
  }

  findByName(name: string): AdminAccount | undefined {
    const r = this.#byName.get(name);
    return r && toAdmin(r);
  }

  list(): AdminAccount[] {
    return this.#list.all().map(toAdmin);
  }

  insert(name: string, passwordHash: string, now: number): number {
    // The TOTP key needs the row id for its encryption context: a placeholder first, then setTotp.
    return Number(this.#insert.run(name, passwordHash, Buffer.alloc(0), now, now).lastInsertRowid);
  }

  setPassword(id: number, passwordHash: string, now: number): void {
    this.#setPassword.run(passwordHash, now, id);
  }

  setTotp(id: number, secretEnc: Buffer, now: number): void {
    this.#setTotp.run(secretEnc, now, id);
  }

  /** Accept `step` once: false for a replayed or older step. */
  advanceTotpStep(id: number, step: number, now: number): boolean {
    return this.#advance.run({ step, now, id }).changes === 1;
  }

  delete(id: number): boolean {
    return this.#delete.run(id).changes === 1;
  }
}
