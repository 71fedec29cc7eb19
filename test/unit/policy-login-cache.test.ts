import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Policy } from '../../src/policy/index.js';
import { closeOpenedStores, countingHasher, enable2fa, makeConfig, MASTER_KEY, req, setup } from '../helpers/policy-fixture.js';
import { VerifiedCredentialCache } from '../../src/policy/verified-credential-cache.js';

afterEach(closeOpenedStores);

async function aliceWithCode(over: Parameters<typeof setup>[0] = {}) {
  const s = await setup(over);
  await enable2fa(s.policy, s.clock);
  const { code } = await s.policy.appCodeAdd('alice', 'Phone');
  s.hasher.reset();
  return { ...s, code };
}

describe('verified-credential cache: repeated logins skip argon2', () => {
  it('verifies once, then serves the same user and code from memory until the lifetime ends', async () => {
    const { policy, clock, hasher, code } = await aliceWithCode({ auth: { login_cache_seconds: 300 } });
    for (let i = 0; i < 3; i++) {
      expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true, via: 'app-code', codeName: 'Phone' });
    }
    expect(hasher.verifies).toBe(1);
    // Any spelling of the code is the same code.
    expect(await policy.authenticate(req('ALICE', code.toLowerCase().replace(/(.{4})/g, '$1 ')))).toMatchObject({ ok: true });
    expect(hasher.verifies).toBe(1);
    clock.now += 300_000;
    expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
    expect(hasher.verifies).toBe(2);
  });

  it('0 seconds turns it off: every login runs argon2', async () => {
    const { policy, hasher, code } = await aliceWithCode({ auth: { login_cache_seconds: 0 } });
    await policy.authenticate(req('alice', code));
    await policy.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(2);
  });

  it('a wrong code is never served from memory, and costs no verification (its lookup finds no row)', async () => {
    const { policy, hasher, code } = await aliceWithCode();
    await policy.authenticate(req('alice', code));
    hasher.reset();
    const wrong = code.slice(0, 15) + (code.endsWith('A') ? 'B' : 'A');
    expect(await policy.authenticate(req('alice', wrong))).toEqual({ ok: false, reason: 'app-code-required' });
    expect(hasher.verifies).toBe(0);
  });

  it("a code cached for alice does not sign in bob (the key binds the user)", async () => {
    const { policy, clock, code } = await aliceWithCode();
    await enable2fa(policy, clock, 'bob');
    await policy.appCodeAdd('bob', 'Phone');
    await policy.authenticate(req('alice', code));
    expect(await policy.authenticate(req('bob', code))).toEqual({ ok: false, reason: 'app-code-required' });
  });

  it('revoke, disable and disallow in this process end a cached code at once', async () => {
    for (const end of ['revoke', 'disable', 'disallow'] as const) {
      const { policy, hasher, code } = await aliceWithCode();
      expect(await policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
      if (end === 'revoke') await policy.appCodeRevoke('alice', 'Phone');
      if (end === 'disable') await policy.disable('alice');
      if (end === 'disallow') await policy.setAdminPolicy('alice', 'disallowed');
      const d = await policy.authenticate(req('alice', code));
      // After disable / disallow the account has no two-step: the code is just a password for
      // the backend to judge (passthrough), never an accepted application code.
      expect(d.ok && d.via === 'app-code', end).toBe(false);
      expect(hasher.verifies, end).toBe(1); // the first login's; the revoked code's row is not found
    }
  });

  it('a revoke or disable by another process (the CLI) ends a cached code at the next login', async () => {
    const server = await aliceWithCode();
    const cli = await setup({}, server.dbPath);
    expect(await server.policy.authenticate(req('alice', server.code))).toMatchObject({ ok: true });
    expect(await server.policy.authenticate(req('alice', server.code))).toMatchObject({ ok: true });
    expect(server.hasher.verifies).toBe(1); // the second login came from memory
    await cli.policy.appCodeRevoke('alice', 'Phone');
    expect(await server.policy.authenticate(req('alice', server.code))).toEqual({ ok: false, reason: 'app-code-required' });
    expect((await server.policy.audit({ user: 'alice', limit: 1 }))[0]).toMatchObject({ event: 'login.fail', detail: { why: 'revoked' } });

    const { code: second } = await cli.policy.appCodeAdd('alice', 'Tablet');
    expect(await server.policy.authenticate(req('alice', second))).toMatchObject({ ok: true });
    await cli.policy.disable('alice');
    const d = await server.policy.authenticate(req('alice', second));
    expect(d.ok && d.via === 'app-code').toBe(false);
  });

  it('parallel connections with one code share one verification; a wrong code costs none', async () => {
    const { policy, hasher, code } = await aliceWithCode();
    const ok = await Promise.all(Array.from({ length: 5 }, () => policy.authenticate(req('alice', code))));
    expect(ok.every((d) => d.ok && d.via === 'app-code')).toBe(true);
    expect(hasher.verifies).toBe(1);
    hasher.reset();
    const wrong = code.slice(0, 15) + (code.endsWith('A') ? 'B' : 'A');
    const bad = await Promise.all(Array.from({ length: 5 }, () => policy.authenticate(req('alice', wrong))));
    expect(bad.every((d) => !d.ok && d.reason === 'app-code-required')).toBe(true);
    expect(hasher.verifies).toBe(0);
  });

  it('with the cache off, parallel logins verify each on their own', async () => {
    const { policy, hasher, code } = await aliceWithCode({ auth: { login_cache_seconds: 0 } });
    await Promise.all(Array.from({ length: 3 }, () => policy.authenticate(req('alice', code))));
    expect(hasher.verifies).toBe(3);
  });

  it('a revoke by another process while the shared verification runs fails every waiting login', async () => {
    const server = await aliceWithCode();
    const cli = await setup({}, server.dbPath);
    const pending = Array.from({ length: 3 }, () => server.policy.authenticate(req('alice', server.code)));
    await cli.policy.appCodeRevoke('alice', 'Phone'); // argon2 is running on the thread pool meanwhile
    const all = await Promise.all(pending);
    expect(all).toEqual(Array.from({ length: 3 }, () => ({ ok: false, reason: 'app-code-required' })));
    expect(server.hasher.verifies).toBe(1);
    // Nothing was cached (this fixture throttles the IP after 3 failures, hence only ok: false).
    expect((await server.policy.authenticate(req('alice', server.code))).ok).toBe(false);
  });

  it('invalidateUser forgets the user: the next login verifies again', async () => {
    const { policy, hasher, code } = await aliceWithCode();
    await policy.authenticate(req('alice', code));
    policy.invalidateUser('ALICE');
    await policy.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(2);
  });
});

describe('VerifiedCredentialCache', () => {
  const v = (codeId: number) => ({ accountId: 1, codeId, codeName: `c${codeId}`, scopes: null, expiresAt: null });

  it('holds at most maxEntries, dropping the oldest', () => {
    const c = new VerifiedCredentialCache({ ttlMs: 1000, maxEntries: 2 });
    c.put('a', 'X', v(1), 0);
    c.put('b', 'X', v(2), 0);
    c.put('c', 'X', v(3), 0);
    expect(c.size).toBe(2);
    expect(c.get('a', 'X', 1)).toBeUndefined();
    expect(c.get('c', 'X', 1)).toEqual(v(3));
  });

  it('expires, and forgets by user, account and code', () => {
    const c = new VerifiedCredentialCache({ ttlMs: 1000, maxEntries: 10 });
    c.put('a', 'X', v(1), 0);
    expect(c.get('a', 'X', 999)).toEqual(v(1));
    expect(c.get('a', 'X', 1000)).toBeUndefined();
    c.put('a', 'X', v(1), 0);
    c.put('b', 'Y', { ...v(2), accountId: 2 }, 0);
    c.invalidateCode(1);
    expect(c.get('a', 'X', 1)).toBeUndefined();
    c.invalidateAccount(2);
    expect(c.size).toBe(0);
    c.put('a', 'X', v(1), 0);
    c.invalidateUser('a');
    expect(c.size).toBe(0);
  });

  it('a hit needs the same user and the same code', () => {
    const c = new VerifiedCredentialCache({ ttlMs: 1000, maxEntries: 10 });
    c.put('alice', 'RFSALANSXUAFAYDT', v(1), 0);
    expect(c.get('alice', 'RFSALANSXUAFAYDU', 1)).toBeUndefined();
    expect(c.get('alicf', 'RFSALANSXUAFAYDT', 1)).toBeUndefined();
    // user NUL code: no shift of letters between the two parts gives the same key
    expect(c.get('aliceR', 'FSALANSXUAFAYDT', 1)).toBeUndefined();
    expect(c.get('alice', 'RFSALANSXUAFAYDT', 1)).toEqual(v(1));
  });
});

describe('revocation notices of the store (PostgreSQL: another node revoked)', () => {
  it('drop the code, or every code of the account, from the login cache, then call the listener', async () => {
    const { store, clock, code } = await aliceWithCode();
    let notify: Parameters<typeof store.watchRevocations>[0] = () => {};
    const announcing = { ...store, watchRevocations: (fn: typeof notify) => ((notify = fn), () => {}) };
    const hasher = countingHasher();
    const node = new Policy({ store: announcing, masterKey: MASTER_KEY, config: makeConfig({}), logger: silentLogger(), clock: () => clock.now, hasher });
    let heard = 0;
    node.onRevocation(() => heard++);
    const alice = (await store.accounts.findByUsername('alice'))!;
    const [row] = await store.appCodes.listActive(alice.id);
    await node.authenticate(req('alice', code));
    await node.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(1);
    notify({ accountId: alice.id, codeId: row!.id + 1000 }); // another code: this one stays cached
    await node.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(1);
    notify({ accountId: alice.id, codeId: row!.id });
    await node.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(2);
    notify({ accountId: alice.id, codeId: null });
    await node.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(3);
    notify(null); // notices may have been missed: nothing dropped, the sessions are checked
    await node.authenticate(req('alice', code));
    expect(hasher.verifies).toBe(3);
    expect(heard).toBe(4);
  });
});
