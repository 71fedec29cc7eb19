import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy } from '../../src/policy/index.js';
import type { RevocationCheck, RevokedSession } from '../../src/policy/types.js';
import { startRevocationWatcher } from '../../src/protocols/shared/revocation-watcher.js';
import { SessionRegistry, type CodeSession } from '../../src/protocols/shared/session-registry.js';
import { openStore, type Store } from '../../src/store/index.js';
import { appCodeStatements, testOnlyRawDatabase } from '../../src/store/sqlite/index.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { testHasher } from '../helpers/policy-fixture.js';

// ---------- fixtures ----------

function session(codeId: number, over: Partial<CodeSession> = {}): CodeSession & { destroyed: number } {
  const s = {
    protocol: 'imap' as const,
    codeId,
    codeName: `Code ${codeId}`,
    user: 'bob',
    cid: `cid${codeId}`,
    clientIp: '192.0.2.7',
    destroyed: 0,
    destroy() {
      s.destroyed++;
    },
    ...over,
  };
  return s;
}

/** Revokes whatever is in `revoked`; counts the queries. */
function fakePolicy(revoked: Set<number>) {
  const p = {
    queries: [] as number[][],
    audits: [] as RevokedSession[],
    fail: false,
    async revokedCodeIds(ids: readonly number[]): Promise<number[]> {
      p.queries.push([...ids]);
      if (p.fail) throw Object.assign(new Error('database is locked'), { name: 'SqliteError', code: 'SQLITE_BUSY' });
      return ids.filter((id) => revoked.has(id));
    },
    recordSessionRevoked(s: RevokedSession): void {
      p.audits.push(s);
    },
  };
  return p satisfies RevocationCheck;
}

afterEach(() => {
  vi.useRealTimers();
});

// ---------- registry ----------

describe('SessionRegistry', () => {
  it('lists distinct code ids and the sessions using given codes', () => {
    const r = new SessionRegistry();
    const a = session(1);
    const b = session(1, { cid: 'other' });
    const c = session(2);
    r.register(a);
    r.register(b);
    const offC = r.register(c);
    expect(r.size).toBe(3);
    expect(r.codeIds().sort()).toEqual([1, 2]);
    expect(r.usingCodes([1])).toEqual([a, b]);
    expect(r.usingCodes([3])).toEqual([]);
    offC();
    offC(); // a second call is harmless
    expect(r.codeIds()).toEqual([1]);
    r.remove(a);
    expect(r.usingCodes([1])).toEqual([b]);
  });
});

// ---------- watcher ----------

describe('revocation watcher', () => {
  it('does not query while no session is registered', async () => {
    vi.useFakeTimers();
    const policy = fakePolicy(new Set());
    const w = startRevocationWatcher({ registry: new SessionRegistry(), policy, intervalMs: 1000, logger: captureLogger().logger });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(policy.queries).toEqual([]);
    w.stop();
  });

  it('every interval, ends the sessions of revoked codes only; logs and audits each without the code', async () => {
    vi.useFakeTimers();
    const revoked = new Set<number>();
    const policy = fakePolicy(revoked);
    const { logger, lines } = captureLogger();
    const registry = new SessionRegistry();
    const phone = session(7, { codeName: 'Phone' });
    const phone2 = session(7, { codeName: 'Phone', cid: 'cid7b' });
    const laptop = session(8, { codeName: 'Laptop' });
    for (const s of [phone, phone2, laptop]) registry.register(s);
    const w = startRevocationWatcher({ registry, policy, intervalMs: 1000, logger });

    await vi.advanceTimersByTimeAsync(999);
    expect(policy.queries).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(policy.queries).toEqual([[7, 8]]);
    expect(phone.destroyed + laptop.destroyed).toBe(0);

    revoked.add(7);
    await vi.advanceTimersByTimeAsync(1000);
    expect(phone.destroyed).toBe(1);
    expect(phone2.destroyed).toBe(1);
    expect(laptop.destroyed).toBe(0);
    expect(registry.codeIds()).toEqual([8]);
    expect(policy.audits).toEqual([
      { protocol: 'imap', user: 'bob', codeId: 7, codeName: 'Phone', cid: 'cid7', clientIp: '192.0.2.7' },
      { protocol: 'imap', user: 'bob', codeId: 7, codeName: 'Phone', cid: 'cid7b', clientIp: '192.0.2.7' },
    ]);
    const events = lines.filter((l) => l.event === 'session.revoked');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ cid: 'cid7', user: 'bob', codeName: 'Phone', proto: 'imap' });

    // Ended once: the next polls only ask about what is left.
    await vi.advanceTimersByTimeAsync(1000);
    expect(policy.queries.at(-1)).toEqual([8]);
    expect(phone.destroyed).toBe(1);

    w.stop();
    const asked = policy.queries.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(policy.queries.length).toBe(asked);
  });

  it('keeps the sessions and logs when the check fails; the next poll tries again', async () => {
    const policy = fakePolicy(new Set([3]));
    const { logger, lines } = captureLogger();
    const registry = new SessionRegistry();
    const s = session(3);
    registry.register(s);
    const w = startRevocationWatcher({ registry, policy, intervalMs: 60_000, logger });
    policy.fail = true;
    expect(await w.check()).toBe(0);
    expect(s.destroyed).toBe(0);
    expect(lines.find((l) => l.event === 'revocation.check-failed')).toMatchObject({ err: 'database is locked', errCode: 'SQLITE_BUSY' });
    policy.fail = false;
    expect(await w.check()).toBe(1);
    expect(s.destroyed).toBe(1);
    w.stop();
  });
});

// ---------- policy.revokedCodeIds against a real store ----------

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function setupPolicy() {
  const store = await openStore(join(mkdtempSync(join(tmpdir(), 'twostep-revoke-')), 'twostep.db'));
  opened.push(store);
  const now = Date.UTC(2026, 0, 1, 12, 0, 10);
  const config = configSchema.parse({ backend: { master_user: 'm', master_password: 'x' } });
  const policy = new Policy({ store, masterKey: Buffer.alloc(32, 3), config, logger: captureLogger().logger, clock: () => now, hasher: testHasher() });
  const enable = async (user: string) => {
    await policy.setAdminPolicy(user, 'allowed');
    const { key } = await policy.totpEnroll(user);
    await policy.totpConfirm(user, totpCode(key, now));
  };
  const idOf = async (user: string, name: string): Promise<number> => {
    const account = await store.accounts.findByUsername(user);
    const code = account && (await store.appCodes.findActiveByName(account.id, name));
    if (!code) throw new Error(`no code ${name}`);
    return code.id;
  };
  return { policy, store, enable, idOf };
}

describe('policy.revokedCodeIds', () => {
  it('reports revoked codes, codes of accounts whose two-step was turned off, and unknown ids', async () => {
    const { policy, store, enable, idOf } = await setupPolicy();
    await enable('bob');
    await enable('carol');
    await enable('dave');
    await policy.appCodeAdd('bob', 'Phone');
    await policy.appCodeAdd('bob', 'Laptop');
    await policy.appCodeAdd('carol', 'Tablet');
    await policy.appCodeAdd('dave', 'Watch');
    const [phone, laptop, tablet, watch] = [await idOf('bob', 'Phone'), await idOf('bob', 'Laptop'), await idOf('carol', 'Tablet'), await idOf('dave', 'Watch')];
    const all = [phone, laptop, tablet, watch];
    expect(await policy.revokedCodeIds(all)).toEqual([]);
    expect(await policy.revokedCodeIds([])).toEqual([]);

    await policy.appCodeRevoke('bob', 'Phone');
    expect(await policy.revokedCodeIds(all)).toEqual([phone]);

    await policy.disable('carol');
    expect(await policy.revokedCodeIds([...all, phone])).toEqual([phone, tablet]);

    await policy.setAdminPolicy('dave', 'disallowed');
    expect(await policy.revokedCodeIds(all)).toEqual([phone, tablet, watch]);
    expect(await policy.revokedCodeIds([laptop, 999_999])).toEqual([999_999]);

    // Defence in depth: a code left active on an account whose two-step is not on no longer counts.
    const bob = await store.accounts.findByUsername('bob');
    await store.accounts.clearTwofa(bob?.id as number, Date.now());
    expect(await policy.revokedCodeIds([laptop])).toEqual([laptop]);
  });

  it('is one query by primary key', async () => {
    const { store } = await setupPolicy();
    // The repo's own statement: capture what its constructor prepares.
    const sqls: string[] = [];
    const db = testOnlyRawDatabase(store);
    const prepare = db.prepare.bind(db);
    appCodeStatements({ prepare: (sql: string) => (sqls.push(sql), prepare(sql)) } as unknown as typeof db);
    const sql = sqls.find((q) => q.includes('json_each'));
    expect(sql).toBeDefined();
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql as string}`).all('[1,2]') as Array<{ detail: string }>;
    const text = plan.map((r) => r.detail).join('\n');
    expect(text).toMatch(/SEARCH c USING INTEGER PRIMARY KEY/);
    expect(text).toMatch(/SEARCH a USING INTEGER PRIMARY KEY/);
    expect(text).not.toMatch(/SCAN (c|a)\b/);
  });

  it('audits a revoked session as session.revoked, without the code', async () => {
    const { policy } = await setupPolicy();
    policy.recordSessionRevoked({ protocol: 'imap', user: 'bob', codeId: 4, codeName: 'Phone', cid: 'abc', clientIp: '192.0.2.1' });
    expect((await policy.audit({ user: 'bob' }))[0]).toMatchObject({
      event: 'session.revoked',
      user: 'bob',
      protocol: 'imap',
      ip: '192.0.2.1',
      detail: { codeId: 4, codeName: 'Phone', cid: 'abc' },
    });
  });
});
