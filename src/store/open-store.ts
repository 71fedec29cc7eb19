import type { Logger } from '../core/logger.js';
import { openSqliteStore } from './sqlite/open-sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Where the write-behind queue reports a lock, a lost write or a full queue (silent by default). */
  logger?: Logger;
  /** Tests only: shorter deadlines than limits.storeBusyMs and limits.storeTransactionMs. */
  busyMs?: number;
  transactionMs?: number;
}

/**
 * Opens (creating and migrating if needed) the store at `[store] path`: SQLite, the embedded
 * default. A PostgreSQL store ([store] url) would be chosen here; callers see only Store.
 */
export function openStore(path: string, o: OpenStoreOptions = {}): Promise<Store> {
  return openSqliteStore(path, o);
}
