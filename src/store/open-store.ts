import type { Logger } from '../core/logger.js';
import { openPostgresStore } from './postgres/open-postgres-store.js';
import { openSqliteStore } from './sqlite/open-sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Where the write-behind queue reports a lock, a lost write or a full queue (silent by default). */
  logger?: Logger;
  /** Tests only: shorter deadlines than limits.storeBusyMs and limits.storeTransactionMs. */
  busyMs?: number;
  transactionMs?: number;
}

/** Where the store is: a SQLite file ([store] path), or a PostgreSQL URL ([store] url). */
export type StoreLocation = string | { url: string };

/** True for a PostgreSQL URL (postgres:// or postgresql://). */
export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/**
 * Opens (creating and migrating if needed) the store: SQLite at a path, the embedded default, or
 * PostgreSQL at a URL, the store several nodes share. Callers see only Store.
 */
export function openStore(where: StoreLocation, o: OpenStoreOptions = {}): Promise<Store> {
  if (typeof where === 'object') return openPostgresStore(where.url, o);
  return openSqliteStore(where, o);
}
