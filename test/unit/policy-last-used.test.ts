import { afterEach, describe, expect, it, vi } from 'vitest';
import { LastUsedQueue } from '../../src/policy/last-used-queue.js';
import type { AppCodeUse } from '../../src/store/app-codes-repo.js';
import { closeOpenedStores, enable2fa, req, setup } from '../helpers/policy-fixture.js';

afterEach(() => {
  closeOpenedStores();
  vi.useRealTimers();
});

const use = (at: number, ip = '192.0.2.1'): AppCodeUse => ({ at, ip, protocol: 'imap', client: null });

describe('LastUsedQueue', () => {
  it('writes the uses noted within delayMs together, newest use per code', () => {
    vi.useFakeTimers();
    const batches: Array<Array<[number, AppCodeUse]>> = [];
    const q = new LastUsedQueue({ delayMs: 25, write: (b) => batches.push([...b]), onError: () => {} });
    q.note(1, use(10));
    q.note(2, use(11));
    q.note(1, use(12, '192.0.2.9'));
    q.note(1, use(5)); // older than what is queued: ignored
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(25);
    expect(batches).toEqual([[[1, use(12, '192.0.2.9')], [2, use(11)]]]);
    expect(q.pending).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(batches).toHaveLength(1);
  });

  it('flush writes at once; a failed write is reported, dropped, and the queue goes on', () => {
    vi.useFakeTimers();
    const errors: number[] = [];
    let fail = true;
    const written: number[] = [];
    const q = new LastUsedQueue({
      delayMs: 1000,
      write: (b) => {
        if (fail) throw new Error('disk full');
        written.push(...b.keys());
      },
      onError: (_e, lost) => errors.push(lost),
    });
    q.note(1, use(1));
    q.note(2, use(1));
    q.flush();
    expect(errors).toEqual([2]);
    fail = false;
    q.note(3, use(2));
    q.flush();
    expect(written).toEqual([3]);
    q.flush(); // nothing pending: no write
    expect(written).toEqual([3]);
  });
});

describe('Last Used through the policy', () => {
  it('a login does not write Last Used itself; it reaches the database within the flush delay', async () => {
    const s = setup();
    enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    const other = setup({}, s.dbPath); // another process (the CLI) reading the same file
    expect(await s.policy.authenticate(req('alice', code, { clientIp: '198.51.100.3' }))).toMatchObject({ ok: true });
    expect(other.policy.appCodeList('alice')[0]?.lastUsedIp).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(other.policy.appCodeList('alice')[0]?.lastUsedIp).toBe('198.51.100.3');
  });

  it('flush() (called by close of serve) writes what is pending', async () => {
    const s = setup();
    enable2fa(s.policy, s.clock);
    const { code } = await s.policy.appCodeAdd('alice', 'Phone');
    await s.policy.authenticate(req('alice', code, { clientIp: '198.51.100.4' }));
    s.policy.flush();
    const other = setup({}, s.dbPath);
    expect(other.policy.appCodeList('alice')[0]?.lastUsedIp).toBe('198.51.100.4');
  });
});
