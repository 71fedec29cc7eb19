import { isTwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Logger } from '../core/logger.js';
import type { DeferredWrite, WriteBehindStats } from './store.js';

export { applyDeferred } from './apply-deferred.js';

export interface WriteBehindOptions {
  /**
   * Writes the batch in one transaction; rejects with STORE_BUSY when the database is locked
   * (best tried once: the queue waits between tries, storeBusyRetryFirstMs doubling to
   * storeBusyRetryMaxMs, for as long as the lock lasts).
   */
  write(batch: readonly DeferredWrite[]): Promise<void>;
  logger: Logger;
  /** Overrides for tests; limits.writeBehind* otherwise. */
  delayMs?: number;
  batchItems?: number;
  maxItems?: number;
  faultRetryMs?: number;
}

interface Entry {
  w: DeferredWrite;
  seq: number;
  /** performance.now() when queued. */
  queuedAt: number;
  key: string | undefined;
}

/** Writes of one row that replace each other while queued (the newest wins); audit events and the guessing-bound writes never do. */
function keyOf(w: DeferredWrite): string | undefined {
  switch (w.kind) {
    case 'app-code-used':
      return `c${w.codeId}`;
    case 'device-seen':
      return `d${w.deviceId}`;
    case 'web-session-seen':
      return `s${w.sessionId}`;
    case 'source-seen':
      // Every login notes its source: a client that logs in again and again is one write.
      return `n${w.username}\0${w.source}`;
    case 'audit':
    case 'attempt-failed':
    case 'attempt-settled':
    case 'mail-notice':
      return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A newer write of one row replacing a queued one. A source's "new to the user" notice is the
 * first use's: the queued one's is kept (the newer use only moves the source's last-seen time).
 */
function merged(older: DeferredWrite, newer: DeferredWrite): DeferredWrite {
  if (older.kind === 'source-seen' && newer.kind === 'source-seen' && older.noticeIfNew !== undefined) {
    return { ...newer, noticeIfNew: older.noticeIfNew };
  }
  return newer;
}

const timeOf = (w: DeferredWrite): number =>
  w.kind === 'app-code-used' ? w.use.at : w.kind === 'audit' ? w.event.at : w.kind === 'mail-notice' ? w.notice.createdAt : w.at;

/**
 * The write-behind queue: writes no login waits for, kept in order and written in batches (one
 * transaction each) as soon as the database takes writes. A locked database makes a batch wait
 * and try again, never drop; only a fault of another kind (tried writeBehindFaultAttempts times,
 * alone) or a full queue loses a write, and each loss is counted and logged. Dialect-neutral.
 */
export class WriteBehind {
  readonly #o: WriteBehindOptions;
  readonly #delayMs: number;
  readonly #batchItems: number;
  readonly #maxItems: number;
  #queue: Entry[] = [];
  #head = 0;
  readonly #byKey = new Map<string, Entry>();
  #inflight: Entry[] = [];
  #seq = 0;
  /** Every entry with seq ≤ this is done (written or given up). */
  #done = 0;
  #waiters: { target: number; resolve: (ok: boolean) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  #abandoned = false;
  #lockedSince: number | undefined;
  #lastDropWarning = -Infinity;
  #droppedSinceWarning = 0;
  readonly #stats = { written: 0, retries: 0, failures: 0, dropped: 0 };
  readonly #drainBound = () => void this.#drain();

  constructor(o: WriteBehindOptions) {
    this.#o = o;
    this.#delayMs = o.delayMs ?? limits.writeBehindDelayMs;
    this.#batchItems = o.batchItems ?? limits.writeBehindBatchItems;
    this.#maxItems = o.maxItems ?? limits.writeBehindMaxItems;
  }

  /** Queues `w`; returns at once (see Store.later). */
  add(w: DeferredWrite): void {
    if (this.#closed) {
      this.#drop(w, 'closed');
      return;
    }
    const key = keyOf(w);
    if (key !== undefined) {
      const queued = this.#byKey.get(key);
      if (queued) {
        if (timeOf(queued.w) <= timeOf(w)) queued.w = merged(queued.w, w);
        return;
      }
    }
    if (this.#pending() + this.#inflight.length >= this.#maxItems) {
      this.#drop(w, 'full');
      return;
    }
    const e: Entry = { w, seq: ++this.#seq, queuedAt: performance.now(), key };
    this.#queue.push(e);
    if (key !== undefined) this.#byKey.set(key, e);
    if (this.#draining === undefined && this.#timer === undefined) {
      this.#timer = setTimeout(this.#drainBound, this.#delayMs);
      this.#timer.unref();
    }
  }

  /** Resolves true once every write queued before the call is done; false after timeoutMs. */
  flush(timeoutMs = Infinity): Promise<boolean> {
    const target = this.#seq;
    if (this.#done >= target) return Promise.resolve(true);
    void this.#drain();
    return new Promise((resolve) => {
      const waiter = { target, resolve };
      this.#waiters.push(waiter);
      if (Number.isFinite(timeoutMs)) {
        setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== waiter);
          resolve(false);
        }, timeoutMs).unref();
      }
    });
  }

  /** The queued (not yet stored) last-seen time of a portal session, if any. */
  queuedSessionSeen(sessionId: number): number | undefined {
    const key = `s${sessionId}`;
    const e = this.#byKey.get(key) ?? this.#inflight.find((x) => x.key === key);
    return e?.w.kind === 'web-session-seen' ? e.w.at : undefined;
  }

  stats(): WriteBehindStats {
    const oldest = this.#inflight[0] ?? this.#queue[this.#head];
    return {
      queued: this.#pending() + this.#inflight.length,
      ...this.#stats,
      oldestAgeMs: oldest ? Math.round(performance.now() - oldest.queuedAt) : 0,
    };
  }

  /**
   * No more writes; drains for at most `timeoutMs`, then gives up what is left (logged with its
   * count). Resolves once no batch is being written any more.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (await this.flush(timeoutMs)) return;
    const lost = this.#pending() + this.#inflight.length;
    this.#abandoned = true;
    this.#o.logger.error({ event: 'store.writes-lost', lost, waitedMs: timeoutMs }, 'database still locked at close: queued writes lost');
  }

  /** Resolves when the drain loop has stopped (after close gave up, once the store rejects its retries). */
  async idle(): Promise<void> {
    await this.#draining;
  }

  #pending(): number {
    return this.#queue.length - this.#head;
  }

  #drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#draining ??= this.#loop().finally(() => {
      this.#draining = undefined;
      // A write queued while the last batch was being written, with the loop already ending.
      if (this.#pending() > 0 && !this.#abandoned) void this.#drain();
    });
    return this.#draining;
  }

  async #loop(): Promise<void> {
    while (this.#pending() > 0 && !this.#abandoned) {
      const batch = this.#take();
      this.#inflight = batch;
      await this.#write(batch);
      this.#inflight = [];
      this.#done = batch[batch.length - 1]?.seq ?? this.#done;
      this.#waiters = this.#waiters.filter((w) => (w.target <= this.#done ? (w.resolve(true), false) : true));
    }
  }

  #take(): Entry[] {
    const end = Math.min(this.#queue.length, this.#head + this.#batchItems);
    const batch = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    for (const e of batch) if (e.key !== undefined) this.#byKey.delete(e.key);
    return batch;
  }

  /** One batch, until it is written: a lock is waited out; a fault is narrowed down to the write that causes it. */
  async #write(batch: Entry[]): Promise<void> {
    let faults = 0;
    let pause: number = limits.storeBusyRetryFirstMs;
    for (;;) {
      if (this.#abandoned) return;
      try {
        await this.#o.write(batch.map((e) => e.w));
        this.#stats.written += batch.length;
        this.#unlocked();
        return;
      } catch (err) {
        if (this.#abandoned) return;
        if (isTwostepError(err, 'STORE_BUSY')) {
          this.#stats.retries++;
          this.#locked();
          await sleep(pause);
          pause = Math.min(pause * 2, limits.storeBusyRetryMaxMs);
          continue;
        }
        if (batch.length > 1) {
          for (const e of batch) await this.#write([e]);
          return;
        }
        if (++faults < limits.writeBehindFaultAttempts) {
          await sleep(this.#o.faultRetryMs ?? limits.writeBehindFaultRetryMs);
          continue;
        }
        this.#stats.failures++;
        this.#o.logger.error({ event: 'store.write-failed', kind: batch[0]?.w.kind, ...logSafeError(err) }, 'a queued write failed and was given up');
        return;
      }
    }
  }

  #locked(): void {
    if (this.#lockedSince !== undefined) return;
    this.#lockedSince = performance.now();
    this.#o.logger.warn({ event: 'store.locked', queued: this.stats().queued }, 'database locked by another process: writes wait in the queue');
  }

  #unlocked(): void {
    if (this.#lockedSince === undefined) return;
    const waitedMs = Math.round(performance.now() - this.#lockedSince);
    this.#lockedSince = undefined;
    this.#o.logger.info({ event: 'store.unlocked', waitedMs, queued: this.stats().queued }, 'database writable again: queued writes go on');
  }

  #drop(w: DeferredWrite, why: 'full' | 'closed'): void {
    this.#stats.dropped++;
    this.#droppedSinceWarning++;
    const now = performance.now();
    if (now - this.#lastDropWarning < limits.writeBehindWarnEveryMs) return;
    this.#lastDropWarning = now;
    this.#o.logger.warn(
      { event: 'store.write-dropped', why, kind: w.kind, dropped: this.#droppedSinceWarning, queued: this.stats().queued },
      why === 'full' ? 'write-behind queue full: writes dropped' : 'write after the store closed: dropped',
    );
    this.#droppedSinceWarning = 0;
  }
}
