import { checkSchemaVersion, type Migration } from '../migrations.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import type { PgConnection, PgExec } from './pg-connection.js';

/** Advisory lock of the migrations: nodes starting together migrate one after the other. */
const MIGRATION_LOCK = [29784, 1] as const;

async function versionOf(x: PgExec): Promise<number> {
  const table = await x.q<{ t: string | null }>("SELECT to_regclass('twostep_schema')::text AS t");
  if (!table.rows[0]?.t) return 0;
  return (await x.q<{ version: number }>('SELECT version FROM twostep_schema')).rows[0]?.version ?? 0;
}

/**
 * Brings the database to the last version of `migrations`: each step in its own transaction
 * with the version bump (PostgreSQL's DDL is transactional: a failed step leaves nothing), under
 * an advisory lock so that nodes starting at once do not migrate twice. A current database takes
 * no lock at all. Refuses a database written by a newer twostep. Returns the version.
 */
export async function migratePostgres(conn: PgConnection, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<number> {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const found = await versionOf(conn);
  checkSchemaVersion(found, latest);
  if (found >= latest) return found;
  for (const m of migrations) {
    await conn.transaction(async (x) => {
      await x.q('SELECT pg_advisory_xact_lock($1, $2)', MIGRATION_LOCK);
      await x.q('CREATE TABLE IF NOT EXISTS twostep_schema (version INTEGER NOT NULL)');
      const v = await versionOf(x); // under the lock: another node may have migrated meanwhile
      checkSchemaVersion(v, latest);
      if (v >= m.version) return;
      await x.script(m.sql);
      await x.q('DELETE FROM twostep_schema');
      await x.q('INSERT INTO twostep_schema (version) VALUES ($1)', [m.version]);
    });
  }
  return versionOf(conn);
}
