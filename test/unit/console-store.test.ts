import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rolloutState } from '../../src/policy/effective-policy.js';
import type { AuditPageQuery, RolloutState } from '../../src/store/console-store.js';
import { openStore, type AdminPolicy, type AuditEvent, type Store, type TwofaState } from '../../src/store/index.js';
import { SQLITE_MIGRATIONS, migrate, testOnlyRawDatabase as raw } from '../../src/store/sqlite/index.js';
import { accountPageSql, pageParams } from '../../src/store/sqlite/account-pages.js';
import { auditWalks } from '../../src/store/sqlite/audit-pages.js';
import { OpenedStores, STORE_BACKENDS, stopStoreBackends } from '../helpers/store-backends.js';

/** The store's side of the admin console (issue 17): pages, counts, domains, the daily rollup, migration 5. */

const opened: Store[] = [];
const T0 = Date.UTC(2026, 4, 10, 12);
const DAY = 86_400_000;
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(stopStoreBackends);
const open = async (path = ':memory:') => {
  const s = await openStore(path);
  opened.push(s);
  return s;
};

/** An account with this policy, state and source (the placeholder key is never decrypted here). */
async function account(s: Store, username: string, policy: AdminPolicy, twofa: TwofaState, own = true): Promise<number> {
  const a = await s.accounts.create(username, policy, T0);
  if (!own) await s.accounts.setPolicy(a.id, policy, false, T0);
  if (twofa !== 'off') await s.accounts.setTotpPending(a.id, Buffer.alloc(8), T0);
  if (twofa === 'on') await s.accounts.setTwofaOn(a.id, 1, T0);
  return a.id;
}

const names = (rows: { account: { username: string } }[]) => rows.map((r) => r.account.username);

// The interface's meaning, on every back end (SQLite, and PostgreSQL with the same data).
describe.each(STORE_BACKENDS)('$name', (backend) => {
  const stores = new OpenedStores();
  afterEach(() => stores.closeAll());
  const open = async () => stores.open(await backend.location());

  describe('accounts: the console list', () => {
    it('each state filter finds exactly the accounts rolloutState() puts in it (one rule in SQL and in the policy)', async () => {
      const s = await open();
      const expected: Record<RolloutState, string[]> = { off: [], allowed: [], required: [], on: [] };
      for (const policy of ['allowed', 'required', 'disallowed'] as const) {
        for (const twofa of ['off', 'pending', 'on'] as const) {
          for (const own of [true, false]) {
            const name = `${policy}-${twofa}-${own ? 'own' : 'follows'}@x.example`;
            await account(s, name, policy, twofa, own);
            expected[rolloutState(policy, twofa)].push(name);
          }
        }
      }
      for (const state of ['off', 'allowed', 'required', 'on'] as const) {
        expect(names(await s.accounts.listPage({ state, limit: 100 }))).toEqual(expected[state].sort());
      }
    });

    it('pages forward and back by name, with search, domain and state combined', async () => {
      const s = await open();
      const all: string[] = [];
      for (let i = 0; i < 130; i++) {
        const name = `u${String(i).padStart(3, '0')}@${i % 2 ? 'odd' : 'even'}.example`;
        await account(s, name, i % 3 === 0 ? 'required' : 'allowed', 'off');
        all.push(name);
      }
      all.sort();
      const p1 = names(await s.accounts.listPage({ limit: 50 }));
      const p2 = names(await s.accounts.listPage({ after: p1[49], limit: 50 }));
      const p3 = names(await s.accounts.listPage({ after: p2[49], limit: 50 }));
      expect([...p1, ...p2, ...p3]).toEqual(all);
      expect(p3).toHaveLength(30);
      expect(names(await s.accounts.listPage({ before: p3[0], limit: 50 }))).toEqual(p2); // ascending, like the page it came from
      expect(names(await s.accounts.listPage({ before: p2[0], limit: 50 }))).toEqual(p1);

      expect(names(await s.accounts.listPage({ contains: 'u07', limit: 50 }))).toEqual(all.filter((n) => n.includes('u07')));
      const combined = names(await s.accounts.listPage({ domain: 'odd.example', state: 'required', contains: '1', limit: 50 }));
      expect(combined).toEqual(all.filter((n) => n.endsWith('@odd.example') && n.includes('1') && Number(n.slice(1, 4)) % 3 === 0));
      expect(combined.length).toBeGreaterThan(3);
    });

    it('counts per domain, policy and state; a domain change moves its followers in batches; disallowed-but-on accounts are found', async () => {
      const s = await open();
      await account(s, 'a@one.example', 'allowed', 'on');
      await account(s, 'b@one.example', 'required', 'off', false);
      await account(s, 'c@one.example', 'required', 'on', false);
      await account(s, 'd@two.example', 'required', 'off');
      await account(s, 'nodomain', 'allowed', 'off');
      const counts = await s.accounts.rolloutCounts();
      expect(counts).toContainEqual({ domain: 'one.example', adminPolicy: 'required', twofaState: 'off', n: 1 });
      expect(counts).toContainEqual({ domain: '', adminPolicy: 'allowed', twofaState: 'off', n: 1 });
      expect(counts.reduce((t, c) => t + c.n, 0)).toBe(5);

      expect(await s.accounts.syncDomainFollowers('one.example', 'disallowed', T0, 1)).toBe(1);
      expect(await s.accounts.syncDomainFollowers('one.example', 'disallowed', T0, 1)).toBe(1);
      expect(await s.accounts.syncDomainFollowers('one.example', 'disallowed', T0, 1)).toBe(0); // own settings stay
      expect((await s.accounts.findByUsername('a@one.example'))?.adminPolicy).toBe('allowed');
      expect((await s.accounts.listDisallowedNotOff('one.example', 10)).map((a) => a.username)).toEqual(['c@one.example']);
      expect((await s.accounts.findByUsername('b@one.example'))?.ownPolicy).toBe(false);
    });
  });

  describe('domains', () => {
    it('set, replace, list and delete a policy', async () => {
      const s = await open();
      await s.domains.set('example.com', 'allowed', T0);
      await s.domains.set('example.com', 'required', T0 + 1);
      await s.domains.set('b.example', 'disallowed', T0);
      expect(await s.domains.find('example.com')).toEqual({ domain: 'example.com', policy: 'required', createdAt: T0, updatedAt: T0 + 1 });
      expect((await s.domains.list()).map((d) => d.domain)).toEqual(['b.example', 'example.com']);
      expect(await s.domains.delete('b.example')).toBe(true);
      expect(await s.domains.delete('b.example')).toBe(false);
      await expect(s.domains.set('Upper.Example', 'allowed', T0)).rejects.toThrow(/check/i);
    });
  });

  describe('audit: pages and the daily counts', () => {
    /** 600 events over 4 days: 5 kinds, 3 protocols, 4 users, 7 addresses; ids and times both ascend. */
    async function seeded(): Promise<{ s: Store; all: AuditEvent[] }> {
      const s = await open();
      const kinds = ['login.ok', 'login.fail', 'login.throttled', 'totp.confirm', 'admin.action'];
      await s.transaction(async (tx) => {
        for (let i = 0; i < 600; i++) {
          await tx.audit.insert({
            at: T0 - 6 * DAY + Math.floor(i / 2) * 1000 * 60 * 20, // two events per instant: ties broken by id
            username: `user${i % 4}`,
            event: kinds[i % 5] as string,
            protocol: ['imap', 'pop3', 'smtp'][i % 3],
            ip: `10.0.0.${i % 7}`,
            detail: i % 5 === 0 ? { via: i % 2 ? 'app-code' : 'passthrough' } : i % 5 === 1 ? { why: 'not-an-app-code' } : {},
          });
        }
      });
      const all = (await s.audit.page({ limit: 1000 })).slice();
      return { s, all };
    }

    const brute = (all: AuditEvent[], q: AuditPageQuery) =>
      all.filter(
        (e) =>
          (q.username === undefined || e.username === q.username) &&
          (q.events === undefined || q.events.includes(e.event)) &&
          (q.protocol === undefined || e.protocol === q.protocol) &&
          (q.ip === undefined || e.ip === q.ip) &&
          (q.since === undefined || e.at >= q.since) &&
          (q.until === undefined || e.at < q.until),
      );

    it('every filter combination pages forward and back through exactly the matching events, newest first', async () => {
      const { s, all } = await seeded();
      expect(all).toHaveLength(600);
      expect(all.every((e, i) => i === 0 || e.at < all[i - 1]!.at || (e.at === all[i - 1]!.at && e.id < all[i - 1]!.id))).toBe(true);
      const queries: Omit<AuditPageQuery, 'limit'>[] = [
        {},
        { username: 'user1' },
        { events: ['login.fail'] },
        { events: ['login.ok', 'login.fail', 'login.throttled'] },
        { protocol: 'pop3' },
        { ip: '10.0.0.3' },
        { since: T0 - 4 * DAY, until: T0 - 2 * DAY },
        { username: 'user2', events: ['login.ok', 'totp.confirm'], protocol: 'imap' },
        { events: ['login.ok', 'admin.action'], protocol: 'smtp', since: T0 - 5 * DAY },
        { ip: '10.0.0.1', events: ['login.ok'] },
        { events: [] },
      ];
      for (const q of queries) {
        const want = brute(all, { ...q, limit: 0 });
        const got: AuditEvent[] = [];
        let page = await s.audit.page({ ...q, limit: 17 });
        const pages = [page];
        while (page.length > 0) {
          got.push(...page);
          const last = page[page.length - 1]!;
          page = await s.audit.page({ ...q, after: { at: last.at, id: last.id }, limit: 17 });
          pages.push(page);
        }
        expect(got.map((e) => e.id), JSON.stringify(q)).toEqual(want.map((e) => e.id));
        // Back from the last full page to the first.
        for (let p = pages.length - 2; p > 0; p--) {
          const first = pages[p]![0]!;
          expect((await s.audit.page({ ...q, before: { at: first.at, id: first.id }, limit: 17 })).map((e) => e.id)).toEqual(pages[p - 1]!.map((e) => e.id));
        }
      }
    });

    it('every insert is counted per UTC day, event, protocol, via and why; event names come from the counts', async () => {
      const { s, all } = await seeded();
      const counts = await s.audit.dailyCounts(Math.floor((T0 - 7 * DAY) / DAY), Math.floor(T0 / DAY));
      expect(counts.reduce((t, c) => t + c.n, 0)).toBe(600);
      const day = Math.floor(all[0]!.at / DAY);
      const want = all.filter((e) => Math.floor(e.at / DAY) === day && e.event === 'login.ok' && e.protocol === 'imap' && e.detail.via === 'app-code').length;
      expect(counts.find((c) => c.day === day && c.event === 'login.ok' && c.protocol === 'imap' && c.via === 'app-code')?.n ?? 0).toBe(want);
      expect(counts.some((c) => c.why === 'not-an-app-code' && c.event === 'login.fail')).toBe(true);
      expect(await s.audit.eventNames()).toEqual(['admin.action', 'login.fail', 'login.ok', 'login.throttled', 'totp.confirm']);
    });

    it('an insert outside a transaction writes the event and its count together', async () => {
      const s = await open();
      await s.audit.insert({ at: T0, event: 'login.ok', protocol: 'imap', detail: { via: 'app-code' } });
      expect(await s.audit.dailyCounts(0, Math.floor(T0 / DAY))).toEqual([{ day: Math.floor(T0 / DAY), event: 'login.ok', protocol: 'imap', via: 'app-code', why: '', n: 1 }]);
    });
  });
});

describe('query plans: every console page reads an index in order (no scan of the table, no sort)', () => {
  const planOf = (s: Store, sql: string, params: Record<string, unknown>) =>
    raw(s)
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');

  it('accounts: by domain, by policy, by name', async () => {
    const s = await open();
    const shapes = [{}, { domain: 'x' }, { state: 'required' as const }, { state: 'on' as const }, { domain: 'x', state: 'off' as const, contains: 'a' }, { after: 'm' }, { before: 'm', state: 'allowed' as const }];
    for (const shape of shapes) {
      const q = { ...shape, limit: 51 };
      const plan = planOf(s, accountPageSql(q), pageParams(q));
      expect(plan, JSON.stringify(shape)).toMatch(/(SEARCH|SCAN) a USING (COVERING )?INDEX/);
      expect(plan, JSON.stringify(shape)).not.toMatch(/TEMP B-TREE|SCAN a\n|SCAN a$/);
    }
  });

  it('audit: the user, address, event, protocol or time index, newest first', async () => {
    const s = await open();
    const shapes: Omit<AuditPageQuery, 'limit'>[] = [
      {},
      { username: 'u', events: ['a', 'b'] },
      { ip: '1.2.3.4', protocol: 'imap' },
      { events: ['login.ok'], since: 1, until: 2 },
      { protocol: 'pop3', after: { at: 5, id: 6 } },
      { events: ['x'], before: { at: 5, id: 6 } },
      { events: ['2fa.ok', 'login.ok'], protocol: 'pop3' },
    ];
    for (const shape of shapes) {
      for (const w of auditWalks({ ...shape, limit: 101 })) {
        const plan = planOf(s, w.sql, w.params);
        expect(plan, w.sql).toMatch(/(SEARCH|SCAN) audit_events USING INDEX audit_events_/);
        expect(plan, w.sql).not.toMatch(/TEMP B-TREE/);
      }
    }
  });
});

describe('migration 5', () => {
  it('backfills the daily counts from the events kept, and proves the keys of admins who signed in before', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'twostep-m5-')), 'twostep.db');
    const db = new BetterSqlite3(path);
    await migrate(db, SQLITE_MIGRATIONS.filter((m) => m.version <= 3));
    const ev = db.prepare('INSERT INTO audit_events (at, username, event, protocol, ip, detail) VALUES (?, ?, ?, ?, ?, ?)');
    ev.run(T0, 'a', 'login.ok', 'imap', '1.2.3.4', '{"via":"app-code"}');
    ev.run(T0 + 1, 'a', 'login.ok', 'imap', '1.2.3.4', '{"via":"app-code","cid":"x"}');
    ev.run(T0, 'b', 'login.fail', null, null, 'not json');
    const adm = db.prepare('INSERT INTO admins (name, password_hash, totp_secret_enc, totp_last_step, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    adm.run('seen', 'h', Buffer.alloc(1), 100, T0, T0 + 5);
    adm.run('never', 'h', Buffer.alloc(1), null, T0, T0);
    db.close();
    const s = await open(path);
    const day = Math.floor(T0 / DAY);
    expect(await s.audit.dailyCounts(day, day)).toEqual(
      expect.arrayContaining([
        { day, event: 'login.ok', protocol: 'imap', via: 'app-code', why: '', n: 2 },
        { day, event: 'login.fail', protocol: '', via: '', why: '', n: 1 },
      ]),
    );
    expect((await s.admins.findByName('seen'))?.totpConfirmedAt).toBe(T0 + 5);
    expect((await s.admins.findByName('never'))?.totpConfirmedAt).toBeNull();
    expect((await s.accounts.listPage({ limit: 5 })).length).toBe(0);
  });

  it("an admin's new key is unproven until confirmTotp accepts a newer step", async () => {
    const s = await open();
    const id = await s.admins.insert('root', 'h', T0);
    await s.admins.setTotp(id, Buffer.alloc(4), T0);
    expect(await s.admins.advanceTotpStep(id, 10, T0)).toBe(true);
    expect((await s.admins.findByName('root'))?.totpConfirmedAt).toBeNull();
    expect(await s.admins.confirmTotp(id, 10, T0 + 1)).toBe(false); // the step the sign-in used
    expect(await s.admins.confirmTotp(id, 11, T0 + 2)).toBe(true);
    expect((await s.admins.findByName('root'))?.totpConfirmedAt).toBe(T0 + 2);
    await s.admins.setTotp(id, Buffer.alloc(4), T0 + 3);
    expect((await s.admins.findByName('root'))?.totpConfirmedAt).toBeNull();
  });
});
