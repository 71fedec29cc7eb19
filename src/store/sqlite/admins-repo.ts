import type { Database } from 'better-sqlite3';
import type { AdminsRepo } from '../store.js';
import type { AdminAccount } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  name: string;
  password_hash: string;
  totp_secret_enc: Buffer;
  totp_last_step: number | null;
  totp_confirmed_at: number | null;
  created_at: number;
  updated_at: number;
}

export const toAdmin = (r: Row): AdminAccount => ({
  id: r.id,
  name: r.name,
  passwordHash: r.password_hash,
  totpSecretEnc: r.totp_secret_enc,
  totpLastStep: r.totp_last_step,
  totpConfirmedAt: r.totp_confirmed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function adminStatements(db: Database) {
  return {
    byName: db.prepare<[string], Row>('SELECT * FROM admins WHERE name = ?'),
    list: db.prepare<[], Row>('SELECT * FROM admins ORDER BY name'),
    insert: db.prepare<[string, string, Buffer, number, number]>(
      'INSERT INTO admins (name, password_hash, totp_secret_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    setPassword: db.prepare<[string, number, number]>('UPDATE admins SET password_hash = ?, updated_at = ? WHERE id = ?'),
    setTotp: db.prepare<[Buffer, number, number]>(
      'UPDATE admins SET totp_secret_enc = ?, totp_last_step = NULL, totp_confirmed_at = NULL, updated_at = ? WHERE id = ?',
    ),
    advance: db.prepare<[{ step: number; now: number; id: number }]>(
      `UPDATE admins SET totp_last_step = @step, updated_at = @now
       WHERE id = @id AND (totp_last_step IS NULL OR totp_last_step < @step)`,
    ),
    confirm: db.prepare<[{ step: number; now: number; id: number }]>(
      `UPDATE admins SET totp_last_step = @step, totp_confirmed_at = @now, updated_at = @now
       WHERE id = @id AND (totp_last_step IS NULL OR totp_last_step < @step)`,
    ),
    delete: db.prepare<[number]>('DELETE FROM admins WHERE id = ?'),
  };
}

/** See AdminsRepo. */
export class SqliteAdminsRepo extends SqliteRepo<ReturnType<typeof adminStatements>> implements AdminsRepo {
  findByName(name: string): Promise<AdminAccount | undefined> {
    return this.x.run(() => {
      const r = this.s.byName.get(name);
      return r && toAdmin(r);
    });
  }

  list(): Promise<AdminAccount[]> {
    return this.x.run(() => this.s.list.all().map(toAdmin));
  }

  insert(name: string, passwordHash: string, now: number): Promise<number> {
    // The TOTP key needs the row id for its encryption context: a placeholder first, then setTotp.
    return this.x.run(() => Number(this.s.insert.run(name, passwordHash, Buffer.alloc(0), now, now).lastInsertRowid));
  }

  setPassword(id: number, passwordHash: string, now: number): Promise<void> {
    return this.x.run(() => void this.s.setPassword.run(passwordHash, now, id));
  }

  setTotp(id: number, secretEnc: Buffer, now: number): Promise<void> {
    return this.x.run(() => void this.s.setTotp.run(secretEnc, now, id));
  }

  advanceTotpStep(id: number, step: number, now: number): Promise<boolean> {
    return this.x.run(() => this.s.advance.run({ step, now, id }).changes === 1);
  }

  confirmTotp(id: number, step: number, now: number): Promise<boolean> {
    return this.x.run(() => this.s.confirm.run({ step, now, id }).changes === 1);
  }

  delete(id: number): Promise<boolean> {
    return this.x.run(() => this.s.delete.run(id).changes === 1);
  }
}
