import type { Database, Statement } from 'better-sqlite3';

/**
 * Statements built from a query's shape (the console's filters), each prepared once per
 * connection on first use: a few dozen shapes at most.
 */
export function statementCache(db: Database): (sql: string) => Statement {
  const prepared = new Map<string, Statement>();
  return (sql) => {
    let st = prepared.get(sql);
    if (!st) {
      st = db.prepare(sql);
      prepared.set(sql, st);
    }
    return st;
  };
}
