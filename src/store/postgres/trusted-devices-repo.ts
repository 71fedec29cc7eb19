import type { TrustedDevicesRepo } from '../store.js';
import type { NewTrustedDevice, TrustedDevice } from '../types.js';
import { toTrustedDevice } from '../sqlite/trusted-devices-repo.js';
import { PgRepo } from './pg-repo.js';

type Row = Parameters<typeof toTrustedDevice>[0];

/** See TrustedDevicesRepo. */
export class PgTrustedDevicesRepo extends PgRepo implements TrustedDevicesRepo {
  insert(d: NewTrustedDevice): Promise<number> {
    const sql = 'INSERT INTO trusted_devices (account_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id';
    return this.insertId(sql, [d.accountId, d.tokenHash, d.label, d.createdAt]);
  }

  async findActive(accountId: number, tokenHash: string): Promise<TrustedDevice | undefined> {
    const sql = 'SELECT * FROM trusted_devices WHERE account_id = $1 AND token_hash = $2 AND revoked_at IS NULL';
    const r = await this.one<Row>(sql, [accountId, tokenHash]);
    return r && toTrustedDevice(r);
  }

  async listActive(accountId: number): Promise<TrustedDevice[]> {
    const sql = 'SELECT * FROM trusted_devices WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id';
    return (await this.x.q<Row>(sql, [accountId])).rows.map(toTrustedDevice);
  }

  async countActive(accountId: number): Promise<number> {
    const sql = 'SELECT count(*) AS n FROM trusted_devices WHERE account_id = $1 AND revoked_at IS NULL';
    return (await this.one<{ n: number }>(sql, [accountId]))?.n ?? 0;
  }

  async touch(id: number, at: number): Promise<boolean> {
    return (await this.changed('UPDATE trusted_devices SET last_seen_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) === 1;
  }

  async revoke(id: number, at: number): Promise<boolean> {
    return (await this.changed('UPDATE trusted_devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) === 1;
  }

  revokeAllForAccount(accountId: number, at: number, exceptId?: number): Promise<number> {
    // -1: no device has it, so "every one but none".
    const sql = 'UPDATE trusted_devices SET revoked_at = $1 WHERE account_id = $2 AND id != $3 AND revoked_at IS NULL';
    return this.changed(sql, [at, accountId, exceptId ?? -1]);
  }
}
