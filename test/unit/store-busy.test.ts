import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTwostepError } from '../../src/core/errors.js';
import { openStore } from '../../src/store/index.js';
import { StoreTestBench } from '../helpers/store-test-bench.js';

/**
 * The store never waits synchronously for a lock: another connection holds BEGIN EXCLUSIVE (as a
 * backup or a long CLI transaction would) and the event loop keeps running; writes wait on a
 * timer and land once the lock goes; reads (WAL) are not blocked at all.
 */

const bench = new StoreTestBench();
afterEach(() => bench.closeAll());

async function open(o: { busyMs?: number; transactionMs?: number } = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'twostep-busy-')), 'twostep.db');
  return { store: bench.track(await openStore(path, o)), path };
}

/** Another connection (another process in real life) holding the write lock until release(). */
const holdLock = (path: string) => bench.lock(path);

/** Resolves after the event loop has run `n` timer callbacks of a 5 ms interval: proof it is not blocked. */
function ticks(n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const t = setInterval(() => {
      if (--left === 0) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
}

/** Whether `p` has settled, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p.then(() => true, () => true), Promise.resolve(marker)])) !== marker;
}

describe('a locked database', () => {
  it('a write waits without blocking the event loop and lands when the lock goes; reads go on', async () => {
    const { store, path } = await open();
    await store.accounts.create('bob', 'allowed', 1);
    const lock = holdLock(path);

    const write = store.accounts.create('alice', 'allowed', 2);
    await ticks(10); // the loop runs while the write waits
    expect(await settled(write)).toBe(false);
    // WAL: another connection's write lock does not block readers (checked on the real SQLite).
    expect((await store.accounts.findByUsername('bob'))?.username).toBe('bob');
    expect(await store.accounts.findByUsername('alice')).toBeUndefined();

    lock.release();
    expect((await write).username).toBe('alice');
    expect((await store.accounts.findByUsername('alice'))?.adminPolicy).toBe('allowed');
  });

  it('a transaction waits for the lock (BEGIN IMMEDIATE retried on a timer), then runs all of its function', async () => {
    const { store, path } = await open();
    const a = await store.accounts.create('alice', 'allowed', 1);
    const lock = holdLock(path);
    const tx = store.transaction(async (t) => {
      await t.accounts.setAdminPolicy(a.id, 'required', 2);
      await t.audit.insert({ at: 2, username: 'alice', event: 'x' });
      return 'done';
    });
    await ticks(10);
    expect(await settled(tx)).toBe(false);
    lock.release();
    expect(await tx).toBe('done');
    expect((await store.accounts.findByUsername('alice'))?.adminPolicy).toBe('required');
  });

  it('a current store opens while it is locked (serve starts during a backup)', async () => {
    const { store, path } = await open();
    await store.accounts.create('alice', 'allowed', 1);
    await store.close();
    bench.untrack(store);
    holdLock(path);
    const again = bench.track(await openStore(path, { busyMs: 200 }));
    expect((await again.accounts.findByUsername('alice'))?.username).toBe('alice');
  });

  it('past the deadline a write fails with STORE_BUSY and changes nothing', async () => {
    const { store, path } = await open({ busyMs: 200 });
    const lock = holdLock(path);
    const err = await store.accounts.create('alice', 'allowed', 1).then(() => null, (e: unknown) => e);
    expect(isTwostepError(err, 'STORE_BUSY')).toBe(true);
    const txErr = await store.transaction((t) => t.accounts.create('carol', 'allowed', 1)).then(() => null, (e: unknown) => e);
    expect(isTwostepError(txErr, 'STORE_BUSY')).toBe(true);
    lock.release();
    expect(await store.accounts.findByUsername('alice')).toBeUndefined();
    expect(await store.accounts.findByUsername('carol')).toBeUndefined();
  });
});

describe('transactions', () => {
  it('roll back on a throw: nothing of the function stays', async () => {
    const { store } = await open();
    await expect(
      store.transaction(async (t) => {
        await t.accounts.create('alice', 'allowed', 1);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await store.accounts.findByUsername('alice')).toBeUndefined();
  });

  it('take turns; a call outside waits for the open one and never lands inside it', async () => {
    const { store } = await open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = store.transaction(async (t) => {
      await t.accounts.create('alice', 'allowed', 1);
      await gate;
      throw new Error('roll back');
    });
    first.catch(() => {});
    await ticks(2);
    // Outside the transaction: waits for it to end, so it is not rolled back with it.
    const outside = store.accounts.create('bob', 'allowed', 1);
    const second = store.transaction((t) => t.accounts.create('carol', 'allowed', 1));
    await ticks(2);
    expect(await settled(outside)).toBe(false);
    expect(await settled(second)).toBe(false);
    release();
    await expect(first).rejects.toThrow('roll back');
    await outside;
    await second;
    expect(await store.accounts.findByUsername('alice')).toBeUndefined();
    expect((await store.accounts.findByUsername('bob'))?.username).toBe('bob');
    expect((await store.accounts.findByUsername('carol'))?.username).toBe('carol');
  });

  it('a store call from inside its own transaction (instead of on its tx) ends with both failing and nothing written', async () => {
    const { store } = await open({ transactionMs: 100 });
    let inner: unknown;
    const err = await store
      .transaction(async () => {
        // Should have been tx.accounts: it waits for the transaction, which waits for it.
        inner = await store.accounts.create('alice', 'allowed', 1).then(() => 'written', (e: unknown) => e);
      })
      .then(() => null, (e: unknown) => e);
    expect(isTwostepError(err, 'STORE_FAILED')).toBe(true);
    await ticks(2);
    expect(isTwostepError(inner, 'STORE_FAILED')).toBe(true);
    expect(await store.accounts.findByUsername('alice')).toBeUndefined();
  });

  it('one still open past its deadline (an await of something slow) is rolled back and fails', async () => {
    const { store } = await open({ transactionMs: 100 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // the deadline and the slow await, on the test's clock
    try {
      let late: unknown = 'not yet';
      const outcome = store
        .transaction(async (t) => {
          await t.accounts.create('alice', 'allowed', 1);
          await new Promise((r) => setTimeout(r, 400)); // e.g. argon2 or the network: not allowed here
          late = await t.accounts.create('bob', 'allowed', 1).then(() => 'written', (e: unknown) => e);
        })
        .then(() => null, (e: unknown) => e);
      await vi.advanceTimersByTimeAsync(100);
      expect(isTwostepError(await outcome, 'STORE_FAILED')).toBe(true);
      // The store is usable at once; what the function did and tries later never lands.
      await store.accounts.create('carol', 'allowed', 1);
      expect(late).toBe('not yet');
      await vi.advanceTimersByTimeAsync(300);
      expect(isTwostepError(late, 'INTERNAL')).toBe(true);
      expect(await store.accounts.findByUsername('alice')).toBeUndefined();
      expect(await store.accounts.findByUsername('bob')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
