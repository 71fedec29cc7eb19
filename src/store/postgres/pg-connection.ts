import { createHash } from 'node:crypto';
import pg from 'pg';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import { isUnreachable, pgFault } from './pg-errors.js';

/** How a repository runs its statements: on the pool (each on its own), or inside one transaction. */
export interface PgExec {
  /**
   * One statement; its rows and how many rows it changed. Prepared once per connection (named by
   * its text) unless `prepare` is false (a text that varies, such as a multi-row INSERT).
   */
  q<R>(text: string, values?: readonly unknown[], prepare?: boolean): Promise<{ rows: R[]; rowCount: number }>;
  /** Several statements without parameters, as one text (a migration). */
  script(sql: string): Promise<void>;
}

/** Deadlines (limits.storeTransactionMs unless a test sets a shorter one). */
export interface PgTimes {
  transactionMs?: number;
}

/** BIGINT (times, ids, counts) as JavaScript numbers: every value twostep stores is below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format ?? 'text') as (v: string) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Every statement is prepared once per connection, under a name derived from its text. */
const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let n = names.get(text);
  if (n === undefined) {
    n = `t${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, n);
  }
  return n;
};

const queryOf = (text: string, values: readonly unknown[], prepare: boolean): pg.QueryConfig =>
  prepare ? { name: nameOf(text), text, values: values as unknown[] } : { text, values: values as unknown[] };

/** What a pool connects with: the URL, and the session settings that bound every wait. */
export function poolConfig(url: string): pg.PoolConfig {
  return {
    connectionString: url,
    max: limits.pgPoolMax,
    connectionTimeoutMillis: limits.pgConnectMs,
    statement_timeout: limits.pgStatementMs,
    query_timeout: limits.pgStatementMs + 1_000,
    lock_timeout: limits.pgLockWaitMs,
    idle_in_transaction_session_timeout: limits.pgIdleInTransactionMs,
    application_name: 'twostep',
    keepAlive: true,
    types,
  };
}

/** SQLSTATEs after which a transaction is simply run again: another node's transaction won. */
const RETRYABLE = new Set(['40001', '40P01']);
const TX_ATTEMPTS = 3;

/**
 * A node-postgres pool as the store uses it: statements on their own (autocommit), and
 * transactions on one pooled connection each (BEGIN … COMMIT; ROLLBACK on a throw), run again
 * when PostgreSQL reports a serialization failure or a deadlock with another node. Transactions
 * of one process run side by side (PostgreSQL orders what they touch); each waits at most
 * limits.pgLockWaitMs for a lock another node holds (STORE_BUSY), and one still open after
 * limits.storeTransactionMs is rolled back (its connection is closed) and fails.
 *
 * A database that cannot be reached fails each call at once (or after limits.pgConnectMs), with
 * STORE_FAILED "cannot reach the database"; the pool connects again by itself when it is back.
 */
export class PgConnection implements PgExec {
  readonly pool: pg.Pool;
  readonly #transactionMs: number;
  #closed = false;

  constructor(url: string, logger: Logger, times: PgTimes = {}) {
    this.pool = new pg.Pool(poolConfig(url));
    this.#transactionMs = times.transactionMs ?? limits.storeTransactionMs;
    // An idle connection that breaks (the database restarts) is dropped from the pool; without a
    // listener the error would end the process.
    this.pool.on('error', (err) => {
      if (!this.#closed) logger.warn({ event: 'store.connection-lost', ...logSafeError(err) }, 'a database connection was lost');
    });
  }

  async q<R>(text: string, values: readonly unknown[] = [], prepare = true): Promise<{ rows: R[]; rowCount: number }> {
    if (this.#closed) throw new TwostepError('STORE_FAILED', 'the database is closed');
    try {
      const r = await this.pool.query<R & pg.QueryResultRow>(queryOf(text, values, prepare));
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw pgFault(err);
    }
  }

  async script(sql: string): Promise<void> {
    try {
      await this.pool.query(sql);
    } catch (err) {
      throw pgFault(err);
    }
  }

  /** See Store.transaction. `fn` gets the PgExec of the transaction. */
  async transaction<T>(fn: (x: PgExec) => Promise<T> | T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(fn);
      } catch (err) {
        const code = (err as { cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code;
        if (attempt >= TX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }

  async #once<T>(fn: (x: PgExec) => Promise<T> | T): Promise<T> {
    if (this.#closed) throw new TwostepError('STORE_FAILED', 'the database is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw pgFault(err);
    }
    let done = false;
    let broken: Error | undefined;
    // The pool listens for a connection's 'error' only while it is idle: one that breaks while
    // this transaction holds it (the database killed) would emit it with no listener, which ends
    // the process. Here it only marks the connection broken; the statements fail as unreachable.
    const onError = (err: Error) => void (broken ??= err);
    client.on('error', onError);
    const run = async <R>(query: string | pg.QueryConfig): Promise<{ rows: R[]; rowCount: number }> => {
      if (done) throw new TwostepError('INTERNAL', 'store call on a transaction that has ended');
      try {
        const r = await client.query<R & pg.QueryResultRow>(query);
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      } catch (err) {
        if (isUnreachable(err)) broken = err as Error;
        throw pgFault(err);
      }
    };
    const exec: PgExec = {
      q: <R>(text: string, values: readonly unknown[] = [], prepare = true) => run<R>(queryOf(text, values, prepare)),
      script: async (sql) => void (await run(sql)),
    };
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => {
        broken = new Error('transaction overdue');
        reject(new TwostepError('STORE_FAILED', `transaction still open after ${this.#transactionMs} ms: rolled back`));
      }, this.#transactionMs);
    });
    overdue.catch(() => {});
    try {
      await client.query('BEGIN');
      const value = await Promise.race([Promise.resolve().then(() => fn(exec)), overdue]);
      done = true;
      await client.query('COMMIT');
      return value;
    } catch (err) {
      done = true;
      // A connection that broke, or whose transaction ran out of time (a statement may still be
      // running on it), is closed: the server rolls back. Any other is rolled back and reused.
      if (!broken) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw pgFault(err);
    } finally {
      clearTimeout(timer);
      client.off('error', onError); // the pool's own listener is back from release() on
      client.release(broken);
    }
  }
}
