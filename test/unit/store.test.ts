import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import { SCHEMA_VERSION, openStore, type Store } from '../../src/store/index.js';
import { SQLITE_MIGRATIONS as MIGRATIONS, migrate, testOnlyRawDatabase as raw } from '../../src/store/sqlite/index.js';

const opened: Store[] = [];
const dbPath = () => join(mkdtempSync(join(tmpdir(), 'twostep-store-')), 'data', 'twostep.db');
const open = async (p: string) => {
  const s = await openStore(p);
  opened.push(s);
  return s;
};

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

describe('openStore', () => {
  it('sets the pragmas and migrates to the latest version', async () => {
    const s = await open(dbPath());
    expect(raw(s).pragma('journal_mode', { simple: true })).toBe('wal');
    // 0: a lock held by another process is waited out asynchronously (test/unit/store-busy.test.ts).
    expect(raw(s).pragma('busy_timeout', { simple: true })).toBe(0);
    expect(raw(s).pragma('foreign_keys', { simple: true })).toBe(1);
    expect(raw(s).pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(raw(s).pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = raw(s)
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual([
      'accounts', 'admins', 'app_codes', 'audit_daily', 'audit_events', 'auth_attempts', 'domain_policies', 'known_sources', 'mail_notices', 'one_time_codes', 'trusted_devices', 'web_sessions',
    ]);
  });

  it('is idempotent on reopen and keeps data', async () => {
    const p = dbPath();
    const a = await open(p);
    await a.accounts.create('alice', 'allowed', 1);
    await a.close();
    const b = await open(p);
    expect(raw(b).pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect((await b.accounts.findByUsername('alice'))?.adminPolicy).toBe('allowed');
    expect(await migrate(raw(b))).toBe(SCHEMA_VERSION);
  });

  it('applies a later migration forward only, in a transaction', async () => {
    const db = new BetterSqlite3(':memory:');
    const extra = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, sql: 'CREATE TABLE extra (x INTEGER);' }];
    expect(await migrate(db, extra)).toBe(SCHEMA_VERSION + 1);
    const broken = [...extra, { version: SCHEMA_VERSION + 2, sql: 'CREATE TABLE y (a); SYNTAX ERROR;' }];
    await expect(migrate(db, broken)).rejects.toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'y'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database from a newer twostep', async () => {
    const p = dbPath();
    await (await open(p)).close();
    const other = new BetterSqlite3(p);
    other.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    other.close();
    try {
      await openStore(p);
      expect.unreachable();
    } catch (e) {
      expect(isTwostepError(e, 'STORE_FAILED')).toBe(true);
      expect((e as Error).message).toMatch(/newer/);
    }
  });
});

// The repositories' behaviour, on SQLite and PostgreSQL alike: test/unit/store-interface.test.ts.
