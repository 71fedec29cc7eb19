import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { totpCode } from '../../src/crypto/index.js';
import { Policy } from '../../src/policy/index.js';
import { countingHasher, enable2fa, makeConfig, MASTER_KEY, req, T0 } from '../helpers/policy-fixture.js';
import { OpenedStores, sharedPostgres, stopStoreBackends } from '../helpers/store-backends.js';

/**
 * What two nodes on one PostgreSQL share, as the policy sees it: each node is a Policy over a
 * store of its own (its own pool) on the same database, with the same key file.
 */
const stores = new OpenedStores();
afterEach(() => stores.closeAll());
afterAll(stopStoreBackends, 60_000);

async function twoNodes() {
  const where = { url: await (await sharedPostgres()).createDatabase() };
  const clock = { now: T0 };
  const node = async () =>
    new Policy({ store: await stores.open(where), masterKey: MASTER_KEY, config: makeConfig({}), logger: silentLogger(), clock: () => clock.now, hasher: countingHasher() });
  return { a: await node(), b: await node(), clock };
}

describe('two nodes on one PostgreSQL (policy)', () => {
  it('share codes, TOTP replay protection, one-time codes, trusted devices and portal sessions', async () => {
    const { a, b, clock } = await twoNodes();
    const { key, oneTimeCodes } = await enable2fa(a, clock);
    const { code } = await a.appCodeAdd('alice', 'Phone');
    expect(await b.authenticate(req('alice', code))).toMatchObject({ ok: true, via: 'app-code', codeName: 'Phone' });

    clock.now += 30_000;
    const totp = totpCode(key, clock.now);
    expect(await a.verifySecondFactor('alice', totp)).toBe(true);
    expect(await b.verifySecondFactor('alice', totp)).toBe(false); // the step was accepted once, on A
    const otc = oneTimeCodes[0] as string;
    expect(await b.verifySecondFactor('alice', otc)).toBe(true);
    expect(await a.verifySecondFactor('alice', otc)).toBe(false); // used up on B

    const device = await a.trustDevice('alice', 'Firefox on the laptop');
    expect(await b.isTrustedDevice('alice', device)).toBe(true);
    await b.revokeTrustedDevices('alice');
    expect(await a.isTrustedDevice('alice', device)).toBe(false);

    const { token } = await a.createWebSession('user', 'alice', 'signed-in');
    expect(await b.readWebSession(token, 'user')).toMatchObject({ subject: 'alice', stage: 'signed-in' });
    await b.endWebSession(token);
    expect(await a.readWebSession(token, 'user')).toBeNull();

    await a.appCodeRevoke('alice', 'Phone');
    expect(await b.authenticate(req('alice', code))).toMatchObject({ ok: false });
  });
});
