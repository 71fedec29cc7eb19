import { afterEach, describe, expect, it, vi } from 'vitest';
import { limits } from '../../src/core/limits.js';
import { closeOpenedStores, enable2fa, req, setup } from '../helpers/policy-fixture.js';

// The queue itself (batching, the newest use per code, failures): test/unit/store-write-behind.test.ts.
afterEach(closeOpenedStores);

describe('Last Used through the policy', () => {
  it('a login does not write Last Used itself; it reaches the database within the flush delay', async () => {
    const s = await setup();
    await enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    const other = await setup({}, s.dbPath); // another process (the CLI) reading the same file
    await s.policy.flush(); // the setup's audit events: the queue is empty, its timer not running
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // the queue's delay, on the test's clock
    try {
      expect(await s.policy.authenticate(req('alice', code, { clientIp: '198.51.100.3' }))).toMatchObject({ ok: true });
      expect((await other.policy.appCodeList('alice'))[0]?.lastUsedIp).toBeNull();
      await vi.advanceTimersByTimeAsync(limits.writeBehindDelayMs);
      expect((await other.policy.appCodeList('alice'))[0]?.lastUsedIp).toBe('198.51.100.3');
    } finally {
      vi.useRealTimers();
    }
  });

  it('flush() (called by close of serve) writes what is pending', async () => {
    const s = await setup();
    await enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    await s.policy.authenticate(req('alice', code, { clientIp: '198.51.100.4' }));
    await s.policy.flush();
    const other = await setup({}, s.dbPath);
    expect((await other.policy.appCodeList('alice'))[0]?.lastUsedIp).toBe('198.51.100.4');
  });
});
