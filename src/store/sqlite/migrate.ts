import type { Database } from 'better-sqlite3';
import { checkSchemaVersion, type Migration } from '../migrations.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteConnection } from './sqlite-connection.js';

const userVersion = (db: Database): number => db.pragma('user_version', { simple: true }) as number;

/**
 * Bring the database to the last version of `migrations`. Each migration runs in its own
 * IMMEDIATE transaction together with the version bump, so a crash or a concurrent opener never
 * sees half a step; a lock held by another process is waited out asynchronously (STORE_BUSY after
 * limits.storeBusyMs). Refuses a database written by a newer twostep. Returns the version.
 */
export async function migrate(
  db: Database | SqliteConnection,
  migrations: readonly Migration[] = SQLITE_MIGRATIONS,
): Promise<number> {
  const conn = db instanceof SqliteConnection ? db : new SqliteConnection(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  checkSchemaVersion(userVersion(conn.db), latest);
  for (const m of migrations) {
    // Versions only go up: a step already applied needs no write lock (a locked store still opens).
    if (userVersion(conn.db) >= m.version) continue;
    await conn.transaction(() => {
      const v = userVersion(conn.db); // re-read under the write lock: another process may have migrated
      checkSchemaVersion(v, latest);
      if (v >= m.version) return;
      conn.db.exec(m.sql);
      conn.db.pragma(`user_version = ${Math.trunc(m.version)}`);
    });
  }
  return userVersion(conn.db);
}
