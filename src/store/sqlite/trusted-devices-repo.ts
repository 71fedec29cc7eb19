import type { Database } from 'better-sqlite3';
import type { TrustedDevicesRepo } from '../store.js';
import type { NewTrustedDevice, TrustedDevice } from '../types.js';
import { SqliteRepo } from './sqlite-repo.js';

interface Row {
  id: number;
  account_id: number;
  token_hash: string;
  label: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

export const toTrustedDevice = (r: Row): TrustedDevice => ({
  id: r.id,
  accountId: r.account_id,
  tokenHash: r.token_hash,
  label: r.label,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  revokedAt: r.revoked_at,
});

export function trustedDeviceStatements(db: Database) {
  return {
    revokeOne: db.prepare<[number, number]>('UPDATE trusted_devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    insert: db.prepare<[number, string, string, number]>(
      'INSERT INTO trusted_devices (account_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)',
    ),
    byToken: db.prepare<[number, string], Row>(
      'SELECT * FROM trusted_devices WHERE account_id = ? AND token_hash = ? AND revoked_at IS NULL',
    ),
    list: db.prepare<[number], Row>('SELECT * FROM trusted_devices WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id'),
    count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM trusted_devices WHERE account_id = ? AND revoked_at IS NULL'),
    touch: db.prepare<[number, number]>('UPDATE trusted_devices SET last_seen_at = ? WHERE id = ? AND revoked_at IS NULL'),
    revokeAll: db.prepare<[number, number]>('UPDATE trusted_devices SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL'),
    revokeAllExcept: db.prepare<[number, number, number]>(
      'UPDATE trusted_devices SET revoked_at = ? WHERE account_id = ? AND id != ? AND revoked_at IS NULL',
    ),
  };
}

/** See TrustedDevicesRepo. */
export class SqliteTrustedDevicesRepo extends SqliteRepo<ReturnType<typeof trustedDeviceStatements>> implements TrustedDevicesRepo {
  insert(d: NewTrustedDevice): Promise<number> {
    return this.x.run(() => Number(this.s.insert.run(d.accountId, d.tokenHash, d.label, d.createdAt).lastInsertRowid));
  }

  findActive(accountId: number, tokenHash: string): Promise<TrustedDevice | undefined> {
    return this.x.run(() => {
      const r = this.s.byToken.get(accountId, tokenHash);
      return r && toTrustedDevice(r);
    });
  }

  listActive(accountId: number): Promise<TrustedDevice[]> {
    return this.x.run(() => this.s.list.all(accountId).map(toTrustedDevice));
  }

  countActive(accountId: number): Promise<number> {
    return this.x.run(() => this.s.count.get(accountId)?.n ?? 0);
  }

  touch(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.touch.run(at, id).changes === 1);
  }

  revoke(id: number, at: number): Promise<boolean> {
    return this.x.run(() => this.s.revokeOne.run(at, id).changes === 1);
  }

  revokeAllForAccount(accountId: number, at: number, exceptId?: number): Promise<number> {
    return this.x.run(() =>
      exceptId === undefined ? this.s.revokeAll.run(at, accountId).changes : this.s.revokeAllExcept.run(at, accountId, exceptId).changes,
    );
  }
}
