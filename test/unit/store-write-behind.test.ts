import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TwostepError } from '../../src/core/errors.js';
import { openStore, type DeferredWrite } from '../../src/store/index.js';
import { WriteBehind } from '../../src/store/write-behind.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { StoreTestBench } from '../helpers/store-test-bench.js';

const audit = (n: number): DeferredWrite => ({ kind: 'audit', event: { at: n, username: 'alice', event: `e${n}` } });
const used = (codeId: number, at: number, ip = '192.0.2.1'): DeferredWrite => ({
  kind: 'app-code-used',
  codeId,
  use: { at, ip, protocol: 'imap', client: null },
});
const busy = () => new TwostepError('STORE_BUSY', 'locked');

/** A queue over a recording writer; `fail(batch)` decides per call what it throws. */
function queue(o: { fail?: (batch: readonly DeferredWrite[]) => Error | undefined; maxItems?: number; delayMs?: number } = {}) {
  const batches: DeferredWrite[][] = [];
  const { logger, lines } = captureLogger();
  const q = new WriteBehind({
    logger,
    delayMs: o.delayMs ?? 10_000, // written on flush() only, unless a test wants the timer
    maxItems: o.maxItems,
    faultRetryMs: 1,
    write: async (batch) => {
      const err = o.fail?.(batch);
      if (err) throw err;
      batches.push([...batch]);
    },
  });
  return { q, batches, lines };
}

describe('WriteBehind', () => {
  it('returns at once, then writes in order, in one batch, the newest use per code', async () => {
    const { q, batches } = queue();
    q.add(audit(1));
    q.add(used(7, 10));
    q.add(audit(2));
    q.add(used(7, 12, '192.0.2.9'));
    q.add(used(7, 5)); // older than the queued use: ignored
    q.add(used(8, 11));
    expect(batches).toEqual([]);
    expect(q.stats().queued).toBe(4);
    expect(await q.flush()).toBe(true);
    expect(batches).toEqual([[audit(1), used(7, 12, '192.0.2.9'), audit(2), used(8, 11)]]);
    expect(q.stats()).toMatchObject({ queued: 0, written: 4, retries: 0, failures: 0, dropped: 0, oldestAgeMs: 0 });
    expect(await q.flush()).toBe(true); // nothing left: no write
    expect(batches).toHaveLength(1);
  });

  it('writes on its own within the delay', async () => {
    vi.useFakeTimers();
    try {
      const { q, batches } = queue({ delayMs: 5 });
      q.add(audit(1));
      q.add(audit(2));
      await vi.advanceTimersByTimeAsync(4);
      expect(batches).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([[audit(1), audit(2)]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a locked database: the batch waits and is retried, nothing dropped, later writes stay behind it', async () => {
    let locked = 3;
    const { q, batches, lines } = queue({ fail: () => (locked-- > 0 ? busy() : undefined) });
    q.add(audit(1));
    q.add(audit(2));
    const done = q.flush();
    q.add(audit(3));
    expect(await done).toBe(true);
    expect(await q.flush()).toBe(true);
    expect(batches.flat()).toEqual([audit(1), audit(2), audit(3)]);
    expect(q.stats()).toMatchObject({ written: 3, retries: 3, failures: 0, dropped: 0 });
    expect(lines.map((l) => l.event)).toEqual(['store.locked', 'store.unlocked']);
  });

  it('flush(timeout) says false while locked; the writes stay queued', async () => {
    let locked = true;
    const { q, batches } = queue({ fail: () => (locked ? busy() : undefined) });
    q.add(audit(1));
    expect(await q.flush(50)).toBe(false);
    expect(q.stats().queued).toBe(1);
    expect(q.stats().oldestAgeMs).toBeGreaterThan(0);
    locked = false;
    expect(await q.flush()).toBe(true);
    expect(batches.flat()).toEqual([audit(1)]);
  });

  it('a fault that is no lock is narrowed to its write: the others are written, that one is logged and given up', async () => {
    const { q, batches, lines } = queue({ fail: (b) => (b.some((w) => w.kind === 'audit' && w.event.event === 'e2') ? new Error('disk I/O error') : undefined) });
    q.add(audit(1));
    q.add(audit(2));
    q.add(audit(3));
    expect(await q.flush()).toBe(true);
    expect(batches.flat()).toEqual([audit(1), audit(3)]);
    expect(q.stats()).toMatchObject({ written: 2, failures: 1 });
    expect(lines.find((l) => l.event === 'store.write-failed')).toMatchObject({ kind: 'audit', errName: 'Error' });
  });

  it('bounded: past maxItems new writes are dropped, counted and logged once', async () => {
    const { q, batches, lines } = queue({ maxItems: 2 });
    q.add(audit(1));
    q.add(audit(2));
    q.add(audit(3));
    q.add(audit(4));
    q.add(used(9, 1)); // a new row: dropped too
    expect(q.stats()).toMatchObject({ queued: 2, dropped: 3 });
    expect(lines.filter((l) => l.event === 'store.write-dropped')).toHaveLength(1);
    await q.flush();
    expect(batches.flat()).toEqual([audit(1), audit(2)]);
  });

  it('close drains; still locked at its deadline, it gives up and logs how many were lost', async () => {
    const { q, batches } = queue();
    q.add(audit(1));
    await q.close(1000);
    expect(batches.flat()).toEqual([audit(1)]);
    q.add(audit(2)); // after close: refused
    expect(q.stats().dropped).toBe(1);

    const stuck = queue({ fail: () => busy() });
    stuck.q.add(audit(1));
    stuck.q.add(audit(2));
    await stuck.q.close(50);
    expect(stuck.lines.find((l) => l.event === 'store.writes-lost')).toMatchObject({ lost: 2 });
  });
});

describe('write-behind of a real store', () => {
  const bench = new StoreTestBench();
  afterEach(() => bench.closeAll());
  const dbPath = () => join(mkdtempSync(join(tmpdir(), 'twostep-wb-')), 'twostep.db');

  it('queues audit events while another process holds the lock and writes them, in order, once it goes', async () => {
    const path = dbPath();
    const store = bench.track(await openStore(path));
    const lock = bench.lock(path);
    for (let i = 1; i <= 5; i++) store.later(audit(i));
    expect(await store.flush(300)).toBe(false);
    expect(await store.audit.list({ limit: 10 })).toEqual([]);
    lock.release();
    expect(await store.flush()).toBe(true);
    expect((await store.audit.list({ limit: 10 })).map((e) => e.event)).toEqual(['e5', 'e4', 'e3', 'e2', 'e1']);
    expect(store.stats()).toMatchObject({ queued: 0, written: 5, dropped: 0 });
    expect(store.stats().retries).toBeGreaterThan(0);
  });

  it('close flushes: a clean shutdown loses nothing', async () => {
    const path = dbPath();
    const store = await openStore(path);
    for (let i = 1; i <= 3; i++) store.later(audit(i));
    await store.close();
    const again = bench.track(await openStore(path));
    expect((await again.audit.list({ limit: 10 })).map((e) => e.event)).toEqual(['e3', 'e2', 'e1']);
  });
});
