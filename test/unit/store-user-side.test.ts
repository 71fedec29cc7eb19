import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { SQLITE_MIGRATIONS, migrate } from '../../src/store/sqlite/index.js';

/** Migration 4 and what it holds: codes that can do less (scopes, expiry) and the mail notice queue. */

const opened: Store[] = [];
const dbPath = () => join(mkdtempSync(join(tmpdir(), 'twostep-store4-')), 'twostep.db');
async function open(p = dbPath()): Promise<Store> {
  const s = await openStore(p);
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function accountOn(s: Store, name = 'alice'): Promise<number> {
  const a = await s.accounts.create(name, 'allowed', 1);
  await s.accounts.setTotpPending(a.id, Buffer.from('k'), 1);
  await s.accounts.setTwofaOn(a.id, 1, 1);
  return a.id;
}

const code = (accountId: number, name: string, extra: object = {}) => ({ accountId, name, lookup: `l-${name}`, hash: 'h', createdAt: 10, ...extra });

describe('migration 4: application code scopes and expiry', () => {
  it('upgrades a version-3 database in place: old codes may do everything and never expire', async () => {
    const p = dbPath();
    const db = new BetterSqlite3(p);
    await migrate(db, SQLITE_MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO accounts (username, admin_policy, twofa_state, created_at, updated_at) VALUES ('alice', 'allowed', 'on', 1, 1)").run();
    db.prepare("INSERT INTO app_codes (account_id, name, lookup, hash, created_at) VALUES (1, 'Old', 'l', 'h', 1)").run();
    db.close();
    const s = await open(p);
    const [old] = await s.appCodes.listActive(1);
    expect(old).toMatchObject({ name: 'Old', scopes: null, expiresAt: null, expiryNoticeAt: null });
  });

  it('keeps scopes and expiry as given; refuses an empty list of scopes', async () => {
    const s = await open();
    const id = await accountOn(s);
    await s.appCodes.insert(code(id, 'Mail', { scopes: ['imap', 'smtp'], expiresAt: 5_000 }));
    await s.appCodes.insert(code(id, 'All'));
    const rows = await s.appCodes.listActive(id);
    expect(rows.map((r) => [r.name, r.scopes, r.expiresAt])).toEqual([
      ['Mail', ['imap', 'smtp'], 5_000],
      ['All', null, null],
    ]);
    expect((await s.appCodes.findActiveByLookup(id, 'l-Mail'))?.scopes).toEqual(['imap', 'smtp']);
    await expect(s.appCodes.insert(code(id, 'None', { scopes: [] }))).rejects.toThrow(/at least one scope/);
  });

  it('finds expired ids, and codes expiring in a window once (marked as noticed)', async () => {
    const s = await open();
    const a = await accountOn(s);
    const off = (await s.accounts.create('bob', 'allowed', 1)).id; // two-step off: no notice
    const soon = await s.appCodes.insert(code(a, 'Soon', { expiresAt: 1_000 }));
    const later = await s.appCodes.insert(code(a, 'Later', { expiresAt: 9_000 }));
    const past = await s.appCodes.insert(code(a, 'Past', { expiresAt: 100 }));
    const never = await s.appCodes.insert(code(a, 'Never'));
    await s.appCodes.insert(code(off, 'Bob', { expiresAt: 1_000 }));
    expect((await s.appCodes.expiredAmong([soon, later, past, never], 500)).sort()).toEqual([past]);
    expect(await s.appCodes.expiredAmong([soon, later, past, never], 1_000)).toEqual(expect.arrayContaining([soon, past]));
    const due = await s.appCodes.expiringUnnoticed(500, 2_000, 10);
    expect(due.map((c) => [c.name, c.username])).toEqual([['Soon', 'alice']]);
    expect(await s.appCodes.markExpiryNoticed(soon, 600)).toBe(true);
    expect(await s.appCodes.markExpiryNoticed(soon, 700)).toBe(false);
    expect(await s.appCodes.expiringUnnoticed(500, 2_000, 10)).toEqual([]);
    await s.appCodes.revoke(later, 800);
    expect(await s.appCodes.expiringUnnoticed(500, 10_000, 10)).toEqual([]);
  });
});

describe('mail notices queue', () => {
  const notice = (username: string, kind = 'app-code-added', createdAt = 100) => ({ username, kind, detail: { codeName: 'Phone' }, createdAt });

  it('claims what is due once: a second sender gets nothing until the claim runs out', async () => {
    const p = dbPath();
    const s = await open(p);
    const other = await open(p); // another process on the same database
    await s.mailNotices.insert(notice('alice'));
    await s.mailNotices.insert(notice('bob'));
    const [first, second] = await Promise.all([s.mailNotices.claimDue(200, 1_000, 10), other.mailNotices.claimDue(200, 1_000, 10)]);
    expect([...first, ...second].map((n) => n.username).sort()).toEqual(['alice', 'bob']);
    expect(await s.mailNotices.claimDue(999, 2_000, 10)).toEqual([]);
    const again = await other.mailNotices.claimDue(1_000, 2_000, 10);
    expect(again.map((n) => n.username).sort()).toEqual(['alice', 'bob']);
    expect(again[0]?.detail).toEqual({ codeName: 'Phone' });
  });

  it('is not due before its time; retry, sent and failed are final per attempt; prune keeps the pending', async () => {
    const s = await open();
    const a = await s.mailNotices.insert(notice('alice'));
    const b = await s.mailNotices.insert(notice('bob'));
    const c = await s.mailNotices.insert(notice('carol'));
    expect(await s.mailNotices.claimDue(50, 1_000, 10)).toEqual([]); // queued at 100
    expect(await s.mailNotices.claimDue(100, 1_000, 10)).toHaveLength(3);
    expect(await s.mailNotices.markRetry(a, 5_000, 'connect ECONNREFUSED')).toBe(true);
    expect(await s.mailNotices.markSent(b, 300)).toBe(true);
    expect(await s.mailNotices.markFailed(c, 300, '550 no such user')).toBe(true);
    expect(await s.mailNotices.markRetry(b, 5_000, 'late')).toBe(false); // sent stays sent
    expect(await s.mailNotices.claimDue(4_999, 9_000, 10)).toEqual([]);
    const [retried] = await s.mailNotices.claimDue(5_000, 9_000, 10);
    expect(retried).toMatchObject({ id: a, attempts: 1, lastError: 'connect ECONNREFUSED', sentAt: null });
    const [bob] = await s.mailNotices.listForUser('bob', 10);
    expect(bob).toMatchObject({ sentAt: 300, attempts: 1 });
    expect(await s.mailNotices.prune(10_000, 100)).toBe(2);
    expect((await s.mailNotices.listForUser('alice', 10)).map((n) => n.id)).toEqual([a]);
  });

  it('write-behind: a source new to the user queues its notice once; quietMs holds back repeats', async () => {
    const s = await open();
    const seen = (at: number) => s.later({ kind: 'source-seen', username: 'alice', source: 'code:1|net:192.0.2.0/24', at, noticeIfNew: notice('alice', 'new-network', at) });
    seen(100);
    seen(200);
    await s.flush();
    seen(300);
    s.later({ kind: 'mail-notice', notice: notice('alice', 'account-locked', 1_000), quietMs: 3_600_000 });
    s.later({ kind: 'mail-notice', notice: notice('alice', 'account-locked', 2_000), quietMs: 3_600_000 });
    s.later({ kind: 'mail-notice', notice: notice('alice', 'account-locked', 3_700_000), quietMs: 3_600_000 });
    s.later({ kind: 'mail-notice', notice: notice('alice', 'two-step-on', 2_000) });
    await s.flush();
    const kinds = (await s.mailNotices.listForUser('alice', 10)).map((n) => [n.kind, n.createdAt]);
    expect(kinds.sort()).toEqual(
      [
        ['account-locked', 1_000],
        ['account-locked', 3_700_000],
        ['new-network', 100],
        ['two-step-on', 2_000],
      ].sort(),
    );
  });
});
