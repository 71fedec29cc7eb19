import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { TwostepError, isTwostepError } from '../core/errors.js';
import { AccountsRepo } from './accounts-repo.js';
import { AdminsRepo } from './admins-repo.js';
import { AppCodesRepo } from './app-codes-repo.js';
import { AuditRepo } from './audit-repo.js';
import { migrate } from './migrations.js';
import { OneTimeCodesRepo } from './one-time-codes-repo.js';
import { TrustedDevicesRepo } from './trusted-devices-repo.js';
import { WebSessionsRepo } from './web-sessions-repo.js';

export interface Store {
  readonly db: Database;
  readonly accounts: AccountsRepo;
  readonly appCodes: AppCodesRepo;
  readonly oneTimeCodes: OneTimeCodesRepo;
  readonly trustedDevices: TrustedDevicesRepo;
  readonly audit: AuditRepo;
  readonly webSessions: WebSessionsRepo;
  readonly admins: AdminsRepo;
  /** Run `fn` in one IMMEDIATE transaction (takes the write lock up front; all or nothing). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/**
 * Open (creating if needed) and migrate the database. The server and the CLI open the same file
 * at once: WAL lets readers and one writer proceed together, busy_timeout waits for the lock
 * instead of failing, and repos never cache, so a change by one process is seen by the other
 * on its next query.
 */
export function openStore(path: string): Store {
  let db: Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new BetterSqlite3(path);
  } catch (cause) {
    throw new TwostepError('STORE_FAILED', `cannot open database ${path}`, { cause });
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (cause) {
    db.close();
    if (isTwostepError(cause)) throw cause;
    throw new TwostepError('STORE_FAILED', `cannot prepare database ${path}`, { cause });
  }
  return {
    db,
    accounts: new AccountsRepo(db),
    appCodes: new AppCodesRepo(db),
    oneTimeCodes: new OneTimeCodesRepo(db),
    trustedDevices: new TrustedDevicesRepo(db),
    audit: new AuditRepo(db),
    webSessions: new WebSessionsRepo(db),
    admins: new AdminsRepo(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}
