import type { PgExec } from './pg-connection.js';

/** What every PostgreSQL repository holds: how to run its statements (the pool, or one transaction). */
export abstract class PgRepo {
  protected readonly x: PgExec;

  constructor(x: PgExec) {
    this.x = x;
  }

  /** The first row of a statement, if any. */
  protected async one<R>(text: string, values: readonly unknown[]): Promise<R | undefined> {
    return (await this.x.q<R>(text, values)).rows[0];
  }

  /** How many rows a statement changed. */
  protected async changed(text: string, values: readonly unknown[]): Promise<number> {
    return (await this.x.q(text, values)).rowCount;
  }

  /** The id of a row an INSERT … RETURNING id made. */
  protected async insertId(text: string, values: readonly unknown[]): Promise<number> {
    const r = await this.one<{ id: number }>(text, values);
    if (!r) throw new Error('INSERT returned no id');
    return r.id;
  }
}
