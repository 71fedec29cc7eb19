import BetterSqlite3 from 'better-sqlite3';
import type { Store } from '../../src/store/index.js';

/**
 * Stores and "other processes" a store test opened, closed by closeAll() (afterEach). The other
 * process is a second connection to the same file: it holds the write lock (BEGIN EXCLUSIVE,
 * as a backup or a long CLI transaction would) until its release() is called.
 */
export class StoreTestBench {
  readonly #stores: Store[] = [];
  readonly #lockers: BetterSqlite3.Database[] = [];

  track(store: Store): Store {
    this.#stores.push(store);
    return store;
  }

  untrack(store: Store): void {
    const i = this.#stores.indexOf(store);
    if (i >= 0) this.#stores.splice(i, 1);
  }

  /** Another connection takes the write lock of `path` now; release() commits. */
  lock(path: string): { db: BetterSqlite3.Database; release: () => void } {
    const db = new BetterSqlite3(path, { timeout: 0 });
    this.#lockers.push(db);
    db.exec('BEGIN EXCLUSIVE');
    return { db, release: () => db.exec('COMMIT') };
  }

  async closeAll(): Promise<void> {
    for (const l of this.#lockers.splice(0)) {
      if (l.inTransaction) l.exec('ROLLBACK');
      l.close();
    }
    for (const s of this.#stores.splice(0)) await s.close();
  }
}
