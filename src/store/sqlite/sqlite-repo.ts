import type { Exec } from './sqlite-connection.js';

/** What every SQLite repository holds: its statements (prepared once per connection) and how to run them. */
export abstract class SqliteRepo<S> {
  protected readonly s: S;
  protected readonly x: Exec;

  constructor(s: S, x: Exec) {
    this.s = s;
    this.x = x;
  }
}
