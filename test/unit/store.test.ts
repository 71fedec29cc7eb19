import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate, openStore, type Store } from '../../src/store/index.js';

const opened: Store[] = [];
const dbPath = () => join(mkdtempSync(join(tmpdir(), 'twostep-store-')), 'data', 'twostep.db');
const open = (p: string) => {
  const s = openStore(p);
  opened.push(s);
  return s;
};

afterEach(() => {
  for (const s of opened.splice(0)) if (s.db.open) s.close();
});

describe('openStore', () => {
  it('sets the pragmas and migrates to the latest version', () => {
    const s = open(dbPath());
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = s.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual(['accounts', 'admins', 'app_codes', 'audit_events', 'one_time_codes', 'trusted_devices', 'web_sessions']);
  });

  it('is idempotent on reopen and keeps data', () => {
    const p = dbPath();
    const a = open(p);
    a.accounts.create('alice', 'allowed', 1);
    a.close();
    const b = open(p);
    expect(b.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(b.accounts.findByUsername('alice')?.adminPolicy).toBe('allowed');
    expect(migrate(b.db)).toBe(SCHEMA_VERSION);
  });

  it('applies a later migration forward only, in a transaction', () => {
    const db = new BetterSqlite3(':memory:');
    const extra = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, sql: 'CREATE TABLE extra (x INTEGER);' }];
    expect(migrate(db, extra)).toBe(SCHEMA_VERSION + 1);
    const broken = [...extra, { version: SCHEMA_VERSION + 2, sql: 'CREATE TABLE y (a); SYNTAX ERROR;' }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'y'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database from a newer twostep', () => {
    const p = dbPath();
    open(p).close();
    const raw = new BetterSqlite3(p);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    try {
      openStore(p);
      expect.unreachable();
    } catch (e) {
      expect(isTwostepError(e, 'STORE_FAILED')).toBe(true);
      expect((e as Error).message).toMatch(/newer/);
    }
  });
});

describe('repos', () => {
  it('accounts: lowercase usernames only; TOTP step only moves forward', () => {
    const s = open(dbPath());
    expect(() => s.accounts.create('Alice', 'allowed', 1)).toThrow(/CHECK/);
    const a = s.accounts.create('alice', 'allowed', 1);
    expect(a).toMatchObject({ username: 'alice', twofaState: 'off', totpSecretEnc: null, createdAt: 1 });
    s.accounts.setTotpPending(a.id, Buffer.from([1, 2, 3]), 2);
    expect(s.accounts.setTwofaOn(a.id, 100, 3)).toBe(true);
    expect(s.accounts.setTwofaOn(a.id, 100, 3)).toBe(false); // no longer pending
    expect(s.accounts.advanceTotpStep(a.id, 100, 4)).toBe(false);
    expect(s.accounts.advanceTotpStep(a.id, 101, 4)).toBe(true);
    expect(s.accounts.advanceTotpStep(a.id, 99, 4)).toBe(false);
    s.accounts.clearTwofa(a.id, 5);
    expect(s.accounts.findByUsername('alice')).toMatchObject({ twofaState: 'off', totpSecretEnc: null, totpLastStep: null });
  });

  it('app codes: a name is unique among active codes; a revoked name may be reused', () => {
    const s = open(dbPath());
    const a = s.accounts.create('alice', 'allowed', 1);
    const id = s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    expect(() => s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 2 })).toThrow(/UNIQUE/);
    expect(s.appCodes.revoke(id, 3)).toBe(true);
    expect(s.appCodes.revoke(id, 3)).toBe(false);
    s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 4 });
    expect(s.appCodes.countActive(a.id)).toBe(1);
    expect(s.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
    expect(s.appCodes.markUsed(id, { at: 5, ip: '1.2.3.4', protocol: 'imap', client: null })).toBe(false);
  });

  it('a transaction is all or nothing', () => {
    const s = open(dbPath());
    const a = s.accounts.create('alice', 'allowed', 1);
    expect(() =>
      s.transaction(() => {
        s.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
        s.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
      }),
    ).toThrow(/UNIQUE/);
    expect(s.oneTimeCodes.countUnused(a.id)).toBe(0);
  });

  it('audit: newest first, filtered by user, detail as JSON', () => {
    const s = open(dbPath());
    s.audit.insert({ at: 1, username: 'alice', event: 'a', detail: { n: 1 } });
    s.audit.insert({ at: 2, username: 'bob', event: 'b' });
    s.audit.insert({ at: 3, username: 'alice', event: 'c', protocol: 'imap', ip: '::1' });
    expect(s.audit.list({ limit: 10 }).map((e) => e.event)).toEqual(['c', 'b', 'a']);
    expect(s.audit.list({ username: 'alice', limit: 10 }).map((e) => e.event)).toEqual(['c', 'a']);
    expect(s.audit.list({ username: 'alice', limit: 10 })[1]?.detail).toEqual({ n: 1 });
    expect(s.audit.list({ limit: 1 })).toHaveLength(1);
  });

  it('a second connection sees writes at once (no cache)', () => {
    const p = dbPath();
    const server = open(p);
    const cli = open(p);
    const a = cli.accounts.create('alice', 'allowed', 1);
    const id = cli.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    expect(server.appCodes.findActiveByLookup(a.id, 'l1')?.id).toBe(id);
    cli.appCodes.revoke(id, 2);
    expect(server.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
  });
});
