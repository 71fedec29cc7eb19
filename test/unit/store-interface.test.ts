import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OpenedStores, STORE_BACKENDS, stopStoreBackends } from '../helpers/store-backends.js';

/**
 * The Store interface, the same on every back end (SQLite and PostgreSQL): what one does, the
 * other must do, so the policy above cannot tell them apart. Constraint messages differ by
 * engine (SQLite "UNIQUE constraint failed", PostgreSQL "violates unique constraint").
 */
const UNIQUE = /UNIQUE|unique constraint/;
const CHECK = /CHECK|check constraint/;

const stores = new OpenedStores();
afterEach(() => stores.closeAll());
afterAll(stopStoreBackends, 60_000);

describe.each(STORE_BACKENDS)('store on $name', (backend) => {
  const open = async () => stores.open(await backend.location());

  it('accounts: lowercase usernames only; TOTP step only moves forward; listed in byte order', async () => {
    const s = await open();
    await expect(s.accounts.create('Alice', 'allowed', 1)).rejects.toThrow(CHECK);
    const a = await s.accounts.create('alice', 'allowed', 1);
    expect(a).toMatchObject({ username: 'alice', twofaState: 'off', totpSecretEnc: null, createdAt: 1 });
    await expect(s.accounts.create('alice', 'allowed', 1)).rejects.toThrow(UNIQUE);
    await s.accounts.setTotpPending(a.id, Buffer.from([1, 2, 3]), 2);
    expect((await s.accounts.findByUsername('alice'))?.totpSecretEnc).toEqual(Buffer.from([1, 2, 3]));
    expect(await s.accounts.setTwofaOn(a.id, 100, 3)).toBe(true);
    expect(await s.accounts.setTwofaOn(a.id, 100, 3)).toBe(false); // no longer pending
    expect(await s.accounts.advanceTotpStep(a.id, 100, 4)).toBe(false);
    expect(await s.accounts.advanceTotpStep(a.id, 101, 4)).toBe(true);
    expect(await s.accounts.advanceTotpStep(a.id, 99, 4)).toBe(false);
    await s.accounts.setAdminPolicy(a.id, 'required', 5);
    await s.accounts.clearTwofa(a.id, 6);
    expect(await s.accounts.findByUsername('alice')).toMatchObject({ adminPolicy: 'required', twofaState: 'off', totpSecretEnc: null, totpLastStep: null, updatedAt: 6 });
    for (const u of ['bob', 'b_b', 'a-z', 'zed']) await s.accounts.create(u, 'allowed', 7);
    expect((await s.accounts.listAll(10)).map((x) => x.username)).toEqual(['a-z', 'alice', 'b_b', 'bob', 'zed']);
    expect(await s.accounts.listAll(2)).toHaveLength(2);
    expect(await s.accounts.findByUsername('nobody')).toBeUndefined();
  });

  it('app codes: a name is unique among active codes; a revoked name may be reused; still valid only while two-step is on', async () => {
    const s = await open();
    const a = await s.accounts.create('alice', 'allowed', 1);
    const id = await s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    await expect(s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 2 })).rejects.toThrow(UNIQUE);
    expect(await s.appCodes.stillValidAmong([id])).toEqual([]); // two-step is off
    await s.accounts.setTotpPending(a.id, Buffer.from('k'), 2);
    await s.accounts.setTwofaOn(a.id, 1, 2);
    expect(await s.appCodes.stillValidAmong([id, 999])).toEqual([id]);
    expect(await s.appCodes.stillValidAmong([])).toEqual([]);
    expect(await s.appCodes.markUsed(id, { at: 3, ip: '1.2.3.4', protocol: 'imap', client: 'Mail' })).toBe(true);
    expect(await s.appCodes.findActiveByLookup(a.id, 'l1')).toMatchObject({ id, name: 'Phone', lastUsedAt: 3, lastUsedIp: '1.2.3.4', lastUsedProtocol: 'imap', lastUsedClient: 'Mail', revokedAt: null });
    expect((await s.appCodes.findActiveByName(a.id, 'Phone'))?.id).toBe(id);
    expect(await s.appCodes.revoke(id, 3)).toBe(true);
    expect(await s.appCodes.revoke(id, 3)).toBe(false);
    expect(await s.appCodes.stillValidAmong([id])).toEqual([]);
    const id2 = await s.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l2', hash: 'h', createdAt: 4 });
    await s.appCodes.insert({ accountId: a.id, name: 'Laptop', lookup: 'l3', hash: 'h', createdAt: 4 });
    expect(await s.appCodes.countActive(a.id)).toBe(2);
    expect((await s.appCodes.listActive(a.id)).map((c) => c.id)[0]).toBe(id2);
    expect(await s.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
    expect(await s.appCodes.markUsed(id, { at: 5, ip: '1.2.3.4', protocol: 'imap', client: null })).toBe(false);
    expect(await s.appCodes.revokeAllForAccount(a.id, 6)).toBe(2);
    expect(await s.appCodes.countActive(a.id)).toBe(0);
  });

  it('one-time codes and trusted devices', async () => {
    const s = await open();
    const a = await s.accounts.create('alice', 'allowed', 1);
    const c1 = await s.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e1'), createdAt: 1 });
    await s.oneTimeCodes.insert({ accountId: a.id, lookup: 'y', secretEnc: Buffer.from('e2'), createdAt: 1 });
    expect((await s.oneTimeCodes.findUnusedByLookup(a.id, 'x'))?.secretEnc).toEqual(Buffer.from('e1'));
    expect(await s.oneTimeCodes.markUsed(c1, 2)).toBe(true);
    expect(await s.oneTimeCodes.markUsed(c1, 2)).toBe(false);
    expect(await s.oneTimeCodes.countUnused(a.id)).toBe(1);
    expect((await s.oneTimeCodes.listForAccount(a.id)).map((c) => c.usedAt)).toEqual([2, null]);
    expect(await s.oneTimeCodes.deleteForAccount(a.id)).toBe(2);

    const d1 = await s.trustedDevices.insert({ accountId: a.id, tokenHash: 't1', label: 'Firefox', createdAt: 1 });
    const d2 = await s.trustedDevices.insert({ accountId: a.id, tokenHash: 't2', label: 'Chrome', createdAt: 2 });
    await s.trustedDevices.insert({ accountId: a.id, tokenHash: 't3', label: 'Safari', createdAt: 3 });
    expect(await s.trustedDevices.touch(d1, 5)).toBe(true);
    expect(await s.trustedDevices.findActive(a.id, 't1')).toMatchObject({ id: d1, label: 'Firefox', lastSeenAt: 5 });
    expect(await s.trustedDevices.revoke(d2, 6)).toBe(true);
    expect(await s.trustedDevices.revoke(d2, 6)).toBe(false);
    expect(await s.trustedDevices.countActive(a.id)).toBe(2);
    expect(await s.trustedDevices.revokeAllForAccount(a.id, 7, d1)).toBe(1);
    expect((await s.trustedDevices.listActive(a.id)).map((d) => d.id)).toEqual([d1]);
    expect(await s.trustedDevices.revokeAllForAccount(a.id, 8)).toBe(1);
    expect(await s.trustedDevices.findActive(a.id, 't1')).toBeUndefined();
  });

  it('a transaction is all or nothing', async () => {
    const s = await open();
    const a = await s.accounts.create('alice', 'allowed', 1);
    await expect(
      s.transaction(async (tx) => {
        await tx.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
        await tx.oneTimeCodes.insert({ accountId: a.id, lookup: 'x', secretEnc: Buffer.from('e'), createdAt: 1 });
      }),
    ).rejects.toThrow(UNIQUE);
    expect(await s.oneTimeCodes.countUnused(a.id)).toBe(0);
    expect(await s.transaction(async (tx) => (await tx.accounts.findByUsername('alice'))?.id)).toBe(a.id);
  });

  it('audit: newest first, filtered by user, event family and protocol, detail as JSON; pruned oldest first', async () => {
    const s = await open();
    await s.audit.insert({ at: 1, username: 'alice', event: 'login.ok', detail: { n: 1 } });
    await s.audit.insert({ at: 2, username: 'bob', event: 'login.fail', protocol: 'pop3' });
    await s.audit.insert({ at: 3, username: 'alice', event: 'code.add', protocol: 'imap', ip: '::1' });
    expect((await s.audit.list({ limit: 10 })).map((e) => e.event)).toEqual(['code.add', 'login.fail', 'login.ok']);
    expect((await s.audit.list({ username: 'alice', limit: 10 })).map((e) => e.event)).toEqual(['code.add', 'login.ok']);
    expect((await s.audit.list({ username: 'alice', limit: 10 }))[1]?.detail).toEqual({ n: 1 });
    expect(await s.audit.list({ limit: 1 })).toHaveLength(1);
    expect((await s.audit.search({ event: 'login', limit: 10 })).map((e) => e.at)).toEqual([2, 1]);
    expect((await s.audit.search({ event: 'login', protocol: 'pop3', limit: 10 })).map((e) => e.username)).toEqual(['bob']);
    expect((await s.audit.search({ username: 'alice', event: 'code', limit: 10 }))[0]).toMatchObject({ ip: '::1', protocol: 'imap' });
    expect(await s.audit.deleteBefore(3, 1)).toBe(1);
    expect(await s.audit.deleteBefore(3, 10)).toBe(1);
    expect((await s.audit.list({ limit: 10 })).map((e) => e.at)).toEqual([3]);
  });

  it('web sessions and admins', async () => {
    const s = await open();
    const id = await s.webSessions.insert({ tokenHash: 'h1', kind: 'user', subject: 'alice', stage: 'signed-in', csrfSecret: 'c', createdAt: 10, expiresAt: 100 });
    await s.webSessions.insert({ tokenHash: 'h2', kind: 'user', subject: 'alice', stage: 'second-factor', csrfSecret: 'c', createdAt: 10, expiresAt: 20 });
    await s.webSessions.touch(id, 15);
    await s.webSessions.setReauth(id, 16);
    expect(await s.webSessions.findByTokenHash('h1')).toMatchObject({ id, kind: 'user', subject: 'alice', lastSeenAt: 15, reauthAt: 16, expiresAt: 100 });
    expect(await s.webSessions.deleteExpired(20, 5)).toBe(1);
    expect(await s.webSessions.deleteForSubject('user', 'alice')).toBe(1);
    expect(await s.webSessions.deleteByTokenHash('h1')).toBe(false);

    const admin = await s.admins.insert('root', 'argon2-hash', 1);
    await expect(s.admins.insert('root', 'x', 1)).rejects.toThrow(UNIQUE);
    await s.admins.setTotp(admin, Buffer.from('enc'), 2);
    await s.admins.setPassword(admin, 'new-hash', 3);
    expect(await s.admins.advanceTotpStep(admin, 7, 4)).toBe(true);
    expect(await s.admins.advanceTotpStep(admin, 7, 4)).toBe(false);
    expect(await s.admins.findByName('root')).toMatchObject({ passwordHash: 'new-hash', totpSecretEnc: Buffer.from('enc'), totpLastStep: 7 });
    await s.admins.insert('alpha', 'h', 5);
    expect((await s.admins.list()).map((a) => a.name)).toEqual(['alpha', 'root']);
    expect(await s.admins.delete(admin)).toBe(true);
    expect(await s.admins.delete(admin)).toBe(false);
  });

  it('attempts and known sources: pending rows count until settled or expired', async () => {
    const s = await open();
    await s.transaction(async (tx) => {
      expect(await tx.attempts.count('user:alice', 0, 10)).toEqual({ n: 0, oldest: null, newest: null });
      await tx.attempts.insertPending('user:alice', 'a1', 10, 50);
      await tx.attempts.insertPending('ip:1.2.3.4', 'a1', 10, 50);
    });
    await s.attempts.record(['user:alice'], 12);
    expect(await s.attempts.count('user:alice', 0, 20)).toEqual({ n: 2, oldest: 10, newest: 12 });
    expect((await s.attempts.count('user:alice', 0, 60)).n).toBe(1); // the pending row expired
    await s.attempts.settle('a1', true, 30);
    expect(await s.attempts.count('user:alice', 0, 60)).toEqual({ n: 2, oldest: 12, newest: 30 });
    await s.attempts.insertPending('user:bob', 'a2', 10, 50);
    await s.attempts.settle('a2', false, 30);
    expect((await s.attempts.count('user:bob', 0, 20)).n).toBe(0);
    expect(await s.attempts.prune(20, 100, 10)).toBe(1); // the failure at 12
    expect((await s.attempts.count('ip:1.2.3.4', 0, 100)).n).toBe(1);

    expect(await s.knownSources.note('alice', 'net:1.2.3.0/24', 5)).toBe(true);
    expect(await s.knownSources.note('alice', 'net:1.2.3.0/24', 9)).toBe(false);
    expect(await s.knownSources.lastAt('alice', 'net:1.2.3.0/24')).toBe(9);
    expect(await s.knownSources.has('alice', 'net:1.2.3.0/24', 9)).toBe(true);
    expect(await s.knownSources.has('alice', 'net:1.2.3.0/24', 10)).toBe(false);
    expect(await s.knownSources.prune(10)).toBe(1);
    expect(await s.knownSources.lastAt('alice', 'net:1.2.3.0/24')).toBeNull();
  });

  it('write-behind: queued writes land in order; a second store on the same database sees them (no cache)', async () => {
    const where = await backend.location();
    const server = await stores.open(where);
    const cli = await stores.open(where);
    const a = await cli.accounts.create('alice', 'allowed', 1);
    const id = await cli.appCodes.insert({ accountId: a.id, name: 'Phone', lookup: 'l1', hash: 'h', createdAt: 1 });
    expect((await server.appCodes.findActiveByLookup(a.id, 'l1'))?.id).toBe(id);
    server.later({ kind: 'app-code-used', codeId: id, use: { at: 5, ip: '10.0.0.1', protocol: 'smtp', client: null } });
    server.later({ kind: 'audit', event: { at: 6, username: 'alice', event: 'login.ok' } });
    server.later({ kind: 'source-seen', username: 'alice', source: 'net:10.0.0.0/24', at: 6 });
    expect(await server.flush(5_000)).toBe(true);
    expect(server.stats()).toMatchObject({ queued: 0, written: 3, failures: 0 });
    expect((await cli.appCodes.findActiveByLookup(a.id, 'l1'))?.lastUsedProtocol).toBe('smtp');
    expect((await cli.audit.list({ limit: 5 })).map((e) => e.event)).toEqual(['login.ok']);
    expect(await cli.knownSources.lastAt('alice', 'net:10.0.0.0/24')).toBe(6);
    await cli.appCodes.revoke(id, 2);
    expect(await server.appCodes.findActiveByLookup(a.id, 'l1')).toBeUndefined();
  });

  it('write-behind: a source seen again while queued is one write, with the newest time', async () => {
    const s = await open();
    for (const at of [5, 9, 7]) s.later({ kind: 'source-seen', username: 'alice', source: 'net:10.0.0.0/24', at });
    s.later({ kind: 'source-seen', username: 'alice', source: 'net:10.9.0.0/24', at: 6 });
    expect(await s.flush(5_000)).toBe(true);
    expect(s.stats()).toMatchObject({ written: 2, failures: 0 });
    expect(await s.knownSources.lastAt('alice', 'net:10.0.0.0/24')).toBe(9);
    expect(await s.knownSources.note('alice', 'net:10.0.0.0/24', 8)).toBe(false); // older: kept at 9
    expect(await s.knownSources.lastAt('alice', 'net:10.0.0.0/24')).toBe(9);
    expect(await s.knownSources.note('bob', 'net:10.0.0.0/24', 8)).toBe(true);
  });
});
