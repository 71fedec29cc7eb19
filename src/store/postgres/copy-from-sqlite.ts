import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { TwostepError } from '../../core/errors.js';
import { openSqliteStore } from '../sqlite/open-sqlite-store.js';
import { openPostgresStore, redactedUrl } from './open-postgres-store.js';
import { poolConfig } from './pg-connection.js';

/**
 * Every table, parents before children; those with an id get their sequence moved past the copied
 * ids; `generated`: columns the database computes (never copied).
 */
const TABLES: readonly { name: string; id: boolean; generated?: readonly string[] }[] = [
  { name: 'accounts', id: true, generated: ['domain'] },
  { name: 'app_codes', id: true },
  { name: 'one_time_codes', id: true },
  { name: 'trusted_devices', id: true },
  { name: 'audit_events', id: true },
  { name: 'web_sessions', id: true },
  { name: 'admins', id: true },
  { name: 'auth_attempts', id: true },
  { name: 'known_sources', id: false },
  { name: 'mail_notices', id: true },
  { name: 'domain_policies', id: false },
  { name: 'audit_daily', id: false },
];
/** Rows per INSERT (PostgreSQL takes at most 65,535 parameters per statement). */
const BATCH = 500;

/**
 * Copies a SQLite store into an empty PostgreSQL one, rows and ids as they are (the encrypted
 * TOTP keys and the codes' lookups and hashes keep working with the same key file), in one
 * PostgreSQL transaction: all or nothing. Both are first brought to the current schema version.
 * Refuses a PostgreSQL database that already holds rows. Returns the rows copied per table.
 */
export async function copySqliteToPostgres(sqlitePath: string, url: string): Promise<Record<string, number>> {
  await (await openSqliteStore(sqlitePath)).close(); // same schema version on both sides
  await (await openPostgresStore(url)).close();
  const src = new BetterSqlite3(sqlitePath, { readonly: true, fileMustExist: true, timeout: 5_000 });
  const { max: _max, ...config } = poolConfig(url);
  const dst = new pg.Client({ ...config, statement_timeout: false, query_timeout: undefined });
  // A connection that breaks emits 'error' (unhandled, it would end the CLI with a stack trace);
  // the query under way is rejected too, and that rejection is what the copy reports.
  dst.on('error', () => {});
  await dst.connect();
  const copied: Record<string, number> = {};
  try {
    await dst.query('BEGIN');
    for (const t of TABLES) {
      const n = (await dst.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.name}`)).rows[0]?.n ?? 0;
      if (n > 0) throw new TwostepError('BAD_STATE', `store.url ${redactedUrl(url)}: table ${t.name} already holds rows; migrate into an empty database`);
    }
    src.exec('BEGIN'); // one snapshot of the source
    for (const t of TABLES) {
      let count = 0;
      let rows: Record<string, unknown>[] = [];
      const flush = async () => {
        if (rows.length === 0) return;
        const cols = Object.keys(rows[0] as object);
        const values: unknown[] = [];
        const tuples = rows.map((r) => `(${cols.map((c) => `$${values.push(r[c])}`).join(', ')})`);
        await dst.query(`INSERT INTO ${t.name} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, values);
        count += rows.length;
        rows = [];
      };
      for (const row of src.prepare(`SELECT * FROM ${t.name}`).iterate() as Iterable<Record<string, unknown>>) {
        for (const g of t.generated ?? []) delete row[g];
        rows.push(row);
        if (rows.length >= BATCH) await flush();
      }
      await flush();
      if (t.id) await dst.query(`SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM ${t.name}), false)`);
      copied[t.name] = count;
    }
    src.exec('COMMIT');
    await dst.query('COMMIT');
    return copied;
  } catch (err) {
    await dst.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    src.close();
    await dst.end().catch(() => {});
  }
}
