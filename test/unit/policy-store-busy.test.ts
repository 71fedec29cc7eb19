import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy } from '../../src/policy/index.js';
import { openStore } from '../../src/store/index.js';
import { MASTER_KEY, T0, enable2fa, makeConfig, req } from '../helpers/policy-fixture.js';
import { StoreTestBench } from '../helpers/store-test-bench.js';

/**
 * docs/store.md, "What a login gets when a write it needs cannot be made": another process holds
 * the write lock. A login that needs no write is accepted (its writes are queued); a second step
 * whose replay protection must be written fails for now, never accepts without the write;
 * changes fail with STORE_BUSY after the deadline and leave nothing behind.
 */

const bench = new StoreTestBench();
afterEach(() => bench.closeAll());

async function setup(auth: Parameters<typeof makeConfig>[0] = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'twostep-policy-busy-')), 'twostep.db');
  const store = bench.track(await openStore(path, { busyMs: 150 }));
  const clock = { now: T0 };
  const policy = new Policy({ store, masterKey: MASTER_KEY, config: makeConfig(auth), logger: silentLogger(), clock: () => clock.now, sleep: async () => {} });
  const lock = () => bench.lock(path).release;
  return { policy, store, clock, lock };
}

const busy = (p: Promise<unknown>) => p.then(() => 'done', (e: unknown) => (isTwostepError(e, 'STORE_BUSY') ? 'STORE_BUSY' : e));

describe('while another process holds the write lock', () => {
  it('an application-code login and a passthrough login are accepted; their audit and Last Used follow the lock', async () => {
    const { policy, store, clock, lock } = await setup();
    await enable2fa(policy, clock);
    const { code } = await policy.appCodeAdd('alice', 'Phone');
    const release = lock();
    expect(await policy.authenticate(req('alice', code, { clientIp: '198.51.100.7' }))).toMatchObject({ ok: true, via: 'app-code' });
    expect(await policy.authenticate(req('bob', 'pw'))).toMatchObject({ ok: true, via: 'passthrough' });
    expect(await store.flush(100)).toBe(false); // queued, waiting for the lock
    release();
    expect(await store.flush()).toBe(true);
    expect((await policy.appCodeList('alice'))[0]?.lastUsedIp).toBe('198.51.100.7');
    expect((await policy.audit({ user: 'alice', limit: 1 }))[0]).toMatchObject({ event: 'login.ok', ip: '198.51.100.7' });
  });

  it('the portal second step is "unavailable" (not accepted, not counted); the same code works once the lock goes', async () => {
    // Two failures would throttle: the two refusals for the lock must not count as failures.
    const { policy, clock, lock } = await setup({ auth: { user_failures: 2, ip_failures: 2 } });
    const { key, oneTimeCodes } = await enable2fa(policy, clock);
    clock.now += 30_000;
    const release = lock();
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '192.0.2.1')).toEqual({ ok: false, reason: 'unavailable' });
    expect(await policy.portalSecondFactor('alice', oneTimeCodes[0] as string, '192.0.2.1')).toEqual({ ok: false, reason: 'unavailable' });
    release();
    // Nothing was recorded: the TOTP step is still unused, the one-time code still unused.
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '192.0.2.1')).toEqual({ ok: true });
    expect(await policy.portalSecondFactor('alice', totpCode(key, clock.now), '192.0.2.1')).toMatchObject({ ok: false, reason: 'invalid-code' }); // replay
    expect(await policy.portalSecondFactor('alice', oneTimeCodes[0] as string, '192.0.2.1')).toEqual({ ok: true });
  });

  it('changes wait for the deadline, then fail with STORE_BUSY and leave nothing half-done', async () => {
    const { policy, clock, lock } = await setup();
    await enable2fa(policy, clock);
    await policy.appCodeAdd('alice', 'Phone');
    const release = lock();
    expect(await busy(policy.appCodeAdd('alice', 'Laptop'))).toBe('STORE_BUSY');
    expect(await busy(policy.appCodeRevoke('alice', 'Phone'))).toBe('STORE_BUSY');
    expect(await busy(policy.disable('alice'))).toBe('STORE_BUSY');
    expect(await busy(policy.oneTimeCodesRegenerate('alice'))).toBe('STORE_BUSY');
    release();
    expect((await policy.appCodeList('alice')).map((c) => c.name)).toEqual(['Phone']);
    expect(await policy.showUser('alice')).toMatchObject({ twofaState: 'on', appCodes: 1, oneTimeCodesUnused: 10 });
  });
});
