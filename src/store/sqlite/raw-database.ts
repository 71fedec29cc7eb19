import type { Database } from 'better-sqlite3';
import type { Store } from '../store.js';

const raw = new WeakMap<Store, Database>();

/** Called once by openSqliteStore. */
export function rememberRawDatabase(store: Store, db: Database): void {
  raw.set(store, db);
}

/**
 * TESTS ONLY: the better-sqlite3 handle under a store that openStore opened on SQLite (pragmas,
 * query plans, a WAL checkpoint). Production code goes through the Store interface, which is the
 * same for every database.
 */
export function testOnlyRawDatabase(store: Store): Database {
  const db = raw.get(store);
  if (!db) throw new Error('not a SQLite store');
  return db;
}
