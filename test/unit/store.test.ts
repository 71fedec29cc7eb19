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
      'accounts', 'admins', 'app_codes', 'audit_daily', 'audit_events', 'auth_attempts', 'domain_policies', 'known_sources', 'one_time_codes', 'trusted_devices', 'web_sessions',
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

describe('repos', () => {
  it('accounts: lowercase usernames only; TOTP step only moves forward', async () => {
    const s = await open(dbPath());
    await expect(s.accounts.create('Alice', 'allowed', 1)).rejects.toThrow(/CHECK/);
    const a = await s.accounts.create('alice', 'allowed', 1);
    expect(a).toMatchObject({ username: 'alice', twofaState: 'off', totpSecretEnc: null, createdAt: 1 });
    await s.accounts.setTotpPending(a.id, Buffer.from([1, 2, 3]), 2);
    expect(await s.accounts.setTwofaOn(a.id, 100, 3)).toBe(true);
    expect(await s.accounts.setTwofaOn(a.id, 100, 3)).toBe(false); // no longer pending
    expect(await s.accounts.advanceTotpStep(a.id, 100, 4)).toBe(false);
    expect(await s.accounts.advanceTotpStep(a.id, 101, 4)).toBe(true);
    expect(await s.accounts.advanceTotpStep(a.id, 99, 4)).toBe(false);
    await s.accounts.clearTwofa(a.id, 5);
    expect(await s.accounts.findByUsername('alice')).toMatchObject({ twofaState: 'off', totpSecretEnc: null, totpLastStep: null });
  });

  it('app codes: a name is unique among active codes; a revoked name may be reused', async () => {
    const s = await open(dbPath());
    const a = await s.accounts.create('alice', 'allowed', 1);
    const id = await s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    await expect(s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 2 })).rejects.toThrow(/UNIQUE/);
    expect(await s.appCodes.revoke(id, 3)).toBe(true);
    expect(await s.appCodes.revoke(id, 3)).toBe(false);
    await s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 4 });
    expect(await s.appCodes.countActive(a.id)).toBe(1);
    expect(await s.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
    expect(await s.appCodes.markUsed(id, { at: 5, ip: '1.2.3.4', protocol: 'imap', client: null })).toBe(false);
  });

  it('a transaction is all or nothing', async () => {
    const s = await open(dbPath());
    const a = await s.accounts.create('alice', 'allowed', 1);
    await expect(
      s.transaction(async (tx) => {
        await tx.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
        await tx.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await s.oneTimeCodes.countUnused(a.id)).toBe(0);
  });

  it('audit: newest first, filtered by user, detail as JSON', async () => {
    const s = await open(dbPath());
    await s.audit.insert({ at: 1, username: 'alice', event: 'a', detail: { n: 1 } });
    await s.audit.insert({ at: 2, username: 'bob', event: 'b' });
    await s.audit.insert({ at: 3, username: 'alice', event: 'c', protocol: 'imap', ip: '::1' });
    expect((await s.audit.list({ limit: 10 })).map((e) => e.event)).toEqual(['c', 'b', 'a']);
    expect((await s.audit.list({ username: 'alice', limit: 10 })).map((e) => e.event)).toEqual(['c', 'a']);
    expect((await s.audit.list({ username: 'alice', limit: 10 }))[1]?.detail).toEqual({ n: 1 });
    expect(await s.audit.list({ limit: 1 })).toHaveLength(1);
  });

  it('a second connection sees writes at once (no cache)', async () => {
    const p = dbPath();
    const server = await open(p);
    const cli = await open(p);
    const a = await cli.accounts.create('alice', 'allowed', 1);
    const id = await cli.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    expect((await server.appCodes.findActiveByLookup(a.id, 'l1'))?.id).toBe(id);
    await cli.appCodes.revoke(id, 2);
    expect(await server.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
  });
});
