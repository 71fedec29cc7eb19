import type { AdminsRepo } from '../store.js';
import type { AdminAccount } from '../types.js';
import { toAdmin } from '../sqlite/admins-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toAdmin>[0];

/** See AdminsRepo. */
export class PgAdminsRepo extends PgRepo implements AdminsRepo {
  async findByName(name: string): Promise<AdminAccount | undefined> {
    const r = await this.one<Row>('SELECT * FROM admins WHERE name = $1', [name]);
    return r && toAdmin(r);
  }

  async list(): Promise<AdminAccount[]> {
    return (await this.x.q<Row>('SELECT * FROM admins ORDER BY name COLLATE "C"')).rows.map(toAdmin);
  }

  insert(name: string, passwordHash: string, now: number): Promise<number> {
    // The TOTP key needs the row id for its encryption context: a placeholder first, then setTotp.
    const sql = 'INSERT INTO admins (name, password_hash, totp_secret_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id';
    return this.insertId(sql, [name, passwordHash, Buffer.alloc(0), now]);
  }

  async setPassword(id: number, passwordHash: string, now: number): Promise<void> {
    await this.x.q('UPDATE admins SET password_hash = $1, updated_at = $2 WHERE id = $3', [passwordHash, now, id]);
  }

  async setTotp(id: number, secretEnc: Buffer, now: number): Promise<void> {
    const sql = 'UPDATE admins SET totp_secret_enc = $1, totp_last_step = NULL, totp_confirmed_at = NULL, updated_at = $2 WHERE id = $3';
    await this.x.q(sql, [secretEnc, now, id]);
  }

  async advanceTotpStep(id: number, step: number, now: number): Promise<boolean> {
    const sql = `UPDATE admins SET totp_last_step = $1, updated_at = $2 WHERE id = $3 AND (totp_last_step IS NULL OR totp_last_step < $1)`;
    return (await this.changed(sql, [step, now, id])) === 1;
  }

  async confirmTotp(id: number, step: number, now: number): Promise<boolean> {
    const sql = `UPDATE admins SET totp_last_step = $1, totp_confirmed_at = $2, updated_at = $2
                 WHERE id = $3 AND (totp_last_step IS NULL OR totp_last_step < $1)`;
    return (await this.changed(sql, [step, now, id])) === 1;
  }

  async delete(id: number): Promise<boolean> {
    return (await this.changed('DELETE FROM admins WHERE id = $1', [id])) === 1;
  }
}
