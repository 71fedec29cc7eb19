/**
 * Sliding-window failure counter (in memory, per process). A key (an IP, a user name) that has
 * `limit` failures within `windowMs` is refused until the oldest of them leaves the window.
 * Refused attempts are not counted themselves, so a throttled key recovers on its own.
 * Memory is bounded: at most `maxKeys` keys (expired ones are swept first, then the oldest go).
 */
export interface ThrottleVerdict {
  /** 0 when allowed, else how long until the next attempt may be made. */
  retryAfterMs: number;
  /** True for the first refusal since the key became throttled (audit that one, not every one). */
  firstRefusal: boolean;
}

interface Entry {
  /** Failure times, oldest first, at most `limit` of them. */
  times: number[];
  /** Set when a refusal has been reported for the current lockout. */
  refusedUntil: number;
}

/**
 * The retry hint when only attempts still in flight fill a key's budget: they settle within one
 * password check, so the client is told to come back soon (a hint, enforced by nothing).
 */
const IN_FLIGHT_RETRY_MS = 1_000;

export class FailureThrottle {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();
  /** Attempts whose verdict is pending, per key (see hold). */
  readonly #held = new Map<string, number>();

  constructor(opts: { limit: number; windowMs: number; maxKeys?: number }) {
    this.#limit = Math.max(1, Math.trunc(opts.limit));
    this.#windowMs = Math.max(1, opts.windowMs);
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  check(key: string, now: number): ThrottleVerdict {
    const held = this.#held.get(key) ?? 0;
    const e = this.#entries.get(key);
    if (e) this.#prune(e, now);
    const failures = e?.times.length ?? 0;
    if (failures + held < this.#limit) return { retryAfterMs: 0, firstRefusal: false };
    const oldest = e?.times[0];
    if (!e || failures < this.#limit || oldest === undefined) return { retryAfterMs: IN_FLIGHT_RETRY_MS, firstRefusal: false };
    const until = oldest + this.#windowMs;
    const firstRefusal = e.refusedUntil !== until;
    e.refusedUntil = until;
    return { retryAfterMs: Math.max(1, until - now), firstRefusal };
  }

  record(key: string, now: number): void {
    let e = this.#entries.get(key);
    if (!e) {
      if (this.#entries.size >= this.#maxKeys) this.#evict(now);
      e = { times: [], refusedUntil: 0 };
      this.#entries.set(key, e);
    }
    this.#prune(e, now);
    e.times.push(now);
    if (e.times.length > this.#limit) e.times.splice(0, e.times.length - this.#limit);
  }

  /**
   * An attempt whose verdict is still pending (an asynchronous password check) counts as a
   * failure in `check` until released, so parallel attempts cannot all pass `check` before the
   * first failure is recorded. Call the returned function (once is enough) as soon as the verdict
   * is known, before any further await; record a failure right after it.
   */
  hold(key: string): () => void {
    this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#held.get(key) ?? 1) - 1;
      if (n <= 0) this.#held.delete(key);
      else this.#held.set(key, n);
    };
  }

  /** Failures of this key within the window (attempts in flight not counted). */
  failures(key: string, now: number): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    this.#prune(e, now);
    return e.times.length;
  }

  /** Number of keys tracked (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #prune(e: Entry, now: number): void {
    const from = now - this.#windowMs;
    let i = 0;
    while (i < e.times.length && (e.times[i] as number) <= from) i++;
    if (i > 0) e.times.splice(0, i);
  }

  #evict(now: number): void {
    for (const [k, e] of this.#entries) {
      this.#prune(e, now);
      if (e.times.length === 0) this.#entries.delete(k);
    }
    // Still full: drop the oldest-inserted keys (Map keeps insertion order).
    const excess = this.#entries.size - this.#maxKeys + 1;
    if (excess > 0) {
      let n = 0;
      for (const k of this.#entries.keys()) {
        if (n++ >= excess) break;
        this.#entries.delete(k);
      }
    }
  }
}
