import { TwostepError } from '../core/errors.js';

/** One step of a dialect's schema history: the SQL that brings version - 1 to `version`. */
export interface Migration {
  version: number;
  sql: string;
}

/**
 * The schema versions, shared by every dialect (SQLite in sqlite/migrations.ts; a PostgreSQL
 * list would sit beside it in postgres/migrations.ts): each dialect has exactly one migration per
 * version, in this order, giving the same tables, columns and constraints in its own SQL. A
 * store of version N means the same thing whichever database holds it. Append only.
 *
 * 1: accounts, app_codes, one_time_codes, trusted_devices, audit_events
 * 2: web_sessions, admins
 * 3: auth_attempts, known_sources (the guessing bounds)
 * 4: app_codes.scopes, .expires_at, .expiry_notice_at (codes that can do less); mail_notices
 *    (mails to users, sent by `serve`)
 * 5: domain_policies, accounts.own_policy and .domain, admins.totp_confirmed_at, audit_daily and
 *    the admin console's indexes
 */
export const SCHEMA_VERSIONS: readonly number[] = [1, 2, 3, 4, 5];

export const SCHEMA_VERSION = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1] ?? 0;

/** A dialect's list, checked at load against SCHEMA_VERSIONS (a missing or extra step is a bug). */
export function checkedMigrations(dialect: string, list: readonly Migration[]): readonly Migration[] {
  const versions = list.map((m) => m.version).join(',');
  if (versions !== SCHEMA_VERSIONS.join(',')) {
    throw new Error(`${dialect} migrations are versions [${versions}], expected [${SCHEMA_VERSIONS.join(',')}]`);
  }
  return list;
}

/** Refuses a database written by a newer twostep (its schema version is past what we know). */
export function checkSchemaVersion(found: number, latest: number): void {
  if (found > latest) {
    throw new TwostepError(
      'STORE_FAILED',
      `database schema version ${found} is newer than this twostep understands (${latest}); upgrade twostep`,
    );
  }
}
