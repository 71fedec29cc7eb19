import type { Database, Statement } from 'better-sqlite3';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';

/** How a repository runs its statements: on its own (the store), or inside one transaction. */
export interface Exec {
  /** Runs `op` (synchronous better-sqlite3 calls) and settles with its result or its error. */
  run<T>(op: () => T): Promise<T>;
}

/** SQLITE_BUSY and its extended codes: another connection holds the lock (busy_timeout is 0). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const busyError = () =>
  new TwostepError('STORE_BUSY', 'the database is locked by another process (a backup, a long command); nothing was changed: try again in a moment');
const closedError = () => new TwostepError('STORE_FAILED', 'the database is closed');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface OpenTx {
  /** Set once it committed, rolled back or was aborted: its Exec refuses from then on. */
  done: boolean;
  /** Rolled back for running past transactionMs. */
  timedOut: boolean;
  /** Resolves when it ends. */
  ended: Promise<void>;
  end(): void;
  /** Rejects when it is aborted for taking too long. */
  aborted: Promise<never>;
  abort(err: Error): void;
}

function openTx(): OpenTx {
  let end!: () => void;
  let abort!: (err: Error) => void;
  const ended = new Promise<void>((r) => (end = r));
  const aborted = new Promise<never>((_r, j) => (abort = j));
  aborted.catch(() => {}); // observed only while the transaction's function runs
  return { done: false, timedOut: false, ended, end, aborted, abort };
}

/**
 * One better-sqlite3 connection that never waits synchronously for a lock: busy_timeout is 0,
 * and a statement or BEGIN refused with SQLITE_BUSY is tried again on a timer (storeBusyRetryFirstMs
 * doubling to storeBusyRetryMaxMs) until limits.storeBusyMs, then fails with STORE_BUSY. In WAL
 * mode another process's write lock blocks writes only; reads go on.
 *
 * Transactions take turns (one open at a time): BEGIN IMMEDIATE with the same retry, the
 * function, COMMIT (ROLLBACK on a throw). While one is open, every other call on this connection
 * waits for it to end, so nothing outside it runs inside it, and it sees no one else's writes.
 */
/** Deadlines (limits.storeBusyMs, limits.storeTransactionMs unless a test sets shorter ones). */
export interface ConnectionTimes {
  busyMs?: number;
  transactionMs?: number;
}

export class SqliteConnection implements Exec {
  readonly db: Database;
  readonly #busyMs: number;
  readonly #transactionMs: number;
  #tx: OpenTx | null = null;
  #closed = false;
  readonly #begin: Statement;
  readonly #commit: Statement;
  readonly #rollback: Statement;

  constructor(db: Database, times: ConnectionTimes = {}) {
    this.db = db;
    this.#busyMs = times.busyMs ?? limits.storeBusyMs;
    this.#transactionMs = times.transactionMs ?? limits.storeTransactionMs;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
  }

  run<T>(op: () => T): Promise<T> {
    if (this.#tx === null && !this.#closed) {
      try {
        return Promise.resolve(op());
      } catch (err) {
        if (!isBusy(err)) return Promise.reject(err);
      }
    }
    return this.#retry(op);
  }

  /**
   * See Store.transaction. `fn` gets the Exec of the transaction. `busyMs` overrides the
   * connection's for this one: 0 = one try at the lock of another process (after this
   * connection's own open transaction, if any); the write-behind queue does its own waiting.
   */
  async transaction<T>(fn: (x: Exec) => Promise<T> | T, o: { busyMs?: number } = {}): Promise<T> {
    const tx = openTx();
    await this.#retry(() => {
      this.#begin.run();
      // BEGIN IMMEDIATE succeeded: the write lock is ours until COMMIT or ROLLBACK, and from this
      // very moment every other call on the connection waits (no await in between).
      this.#tx = tx;
    }, o.busyMs);
    const exec: Exec = {
      run: <R>(op: () => R): Promise<R> => {
        if (tx.done) return Promise.reject(new TwostepError('INTERNAL', 'store call on a transaction that has ended'));
        try {
          return Promise.resolve(op());
        } catch (err) {
          return Promise.reject(err);
        }
      },
    };
    const timer = setTimeout(() => {
      if (tx.done) return;
      const err = new TwostepError('STORE_FAILED', `transaction still open after ${this.#transactionMs} ms: rolled back`);
      tx.timedOut = true;
      try {
        this.#finish(tx, this.#rollback);
      } catch (cause) {
        tx.abort(new TwostepError('STORE_FAILED', err.message, { cause }));
        return;
      }
      tx.abort(err);
    }, this.#transactionMs);
    try {
      const result = Promise.resolve().then(() => fn(exec));
      result.catch(() => {}); // when aborted, its later outcome is of no interest
      const value = await Promise.race([result, tx.aborted]);
      if (!tx.done) this.#finish(tx, this.#commit);
      return value;
    } catch (err) {
      if (!tx.done) this.#finish(tx, this.#rollback);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * No more calls (they fail with STORE_FAILED; calls waiting for a lock stop at their next try);
   * waits for an open transaction to end, then closes the database.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#tx) await this.#tx.ended;
    this.db.close();
  }

  /** COMMIT or ROLLBACK, then the next in line may go. A failed COMMIT is rolled back (and thrown). */
  #finish(tx: OpenTx, stmt: Statement): void {
    tx.done = true;
    try {
      if (this.db.inTransaction) stmt.run();
    } catch (err) {
      if (this.db.inTransaction) this.#rollback.run();
      throw isBusy(err) ? busyError() : err;
    } finally {
      this.#tx = null;
      tx.end();
    }
  }

  async #retry<T>(op: () => T, busyMs = this.#busyMs): Promise<T> {
    const deadline = performance.now() + busyMs;
    let pause: number = limits.storeBusyRetryFirstMs;
    for (;;) {
      if (this.#closed) throw closedError();
      const open = this.#tx;
      if (open) {
        // Our own transaction (each ends within transactionMs); busyMs 0 still waits for it.
        if (busyMs > 0 && performance.now() >= deadline) throw busyError();
        await open.ended;
        // A call waiting for a transaction that ran out of time is most likely made from inside
        // it (on the store, not on its tx): it must not land on its own once that is rolled back.
        if (open.timedOut) throw new TwostepError('STORE_FAILED', 'waited for a transaction that was rolled back for running too long');
        continue;
      }
      try {
        return op();
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw busyError();
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, limits.storeBusyRetryMaxMs);
    }
  }
}
