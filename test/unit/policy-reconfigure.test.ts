import { afterEach, describe, expect, it } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import { closeOpenedStores, enable2fa, makeConfig, req, setup } from '../helpers/policy-fixture.js';

afterEach(closeOpenedStores);

describe('Policy.reconfigure (SIGHUP)', () => {
  it('the next call reads the new settings: a lower code limit, a failure delay, the login cache off', async () => {
    const s = await setup({ codes: { max_app_codes: 5 }, auth: { login_cache_seconds: 300 } });
    await enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    expect(await s.policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
    const before = s.hasher.verifies;
    expect(await s.policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
    expect(s.hasher.verifies).toBe(before); // cached: no argon2

    s.policy.reconfigure(makeConfig({ codes: { max_app_codes: 1 }, auth: { failure_delay_ms: 700, login_cache_seconds: 0 } }));
    const refused = await s.policy.appCodeAdd('alice', 'Tablet').catch((err: unknown) => err);
    expect(isTwostepError(refused, 'LIMIT_REACHED')).toBe(true);
    expect(await s.policy.authenticate(req('alice', 'WRONGWRONGWRONGX'))).toMatchObject({ ok: false });
    expect(s.sleeps.at(-1)).toBeGreaterThan(0); // the new failure delay (700 ms less the time spent)
    const now = s.hasher.verifies;
    expect(await s.policy.authenticate(req('alice', code))).toMatchObject({ ok: true });
    expect(s.hasher.verifies).toBe(now + 1); // the cache was emptied and is off: argon2 again
  });
});
