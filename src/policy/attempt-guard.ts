import { createHmac, randomBytes } from 'node:crypto';
import { isTwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';

/** One bound: at most `limit` failures and checks under way per `windowMs` under `key`. */
export interface GuardKey {
  key: string;
  limit: number;
  windowMs: number;
}

/** A check under way, reserved under its keys: settle it once its verdict is known. */
export interface Reservation {
  /**
   * failed: the check said no, and the reservation becomes a failure (written before this
   * resolves, so the next attempt counts it); else it is released (queued). Idempotent.
   */
  settle(failed: boolean): Promise<void>;
}

export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; key: string; retryAfterMs: number };

/**
 * When only checks under way fill a key's budget, they settle within one password check: the
 * client is told to come back soon (a hint, enforced by nothing).
 */
const IN_FLIGHT_RETRY_MS = 1_000;

interface Shared {
  result: Promise<ReserveResult>;
  refs: number;
  failed: boolean;
}

/**
 * The guessing bounds, kept in the store so that they hold across processes, nodes and restarts:
 * failures per key within a window, and checks under way reserved before they start, so that
 * however many attempts arrive at once no key ever gets more checks in a window than its limit.
 *
 * - verdict(): failures (and reservations) of one key, no reservation made (a source's bound).
 * - reserve(): one check under each key, all or nothing, in one store transaction; attempts
 *   presenting the same secret at once (a mail app opening several connections) share one.
 * - fail(): failures recorded without a reservation before them.
 *
 * While another process holds the database's write lock longer than limits.guardBusyMs, this
 * process goes on with what it can read plus what it holds in memory (its own reservations and
 * failures since the lock began); the failures are queued and written once the lock is gone. The
 * bounds then hold per process, not across processes, for as long as the lock lasts.
 */
export class AttemptGuard {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #key = randomBytes(32);
  readonly #shared = new Map<string, Shared>();
  /** Reservations made while the database was locked, per key. */
  readonly #localPending = new Map<string, number>();
  /** Failures recorded while the database was locked (queued for it), per key. */
  readonly #localFailures = new Map<string, number[]>();
  /**
   * The last write found the database locked by another process: writes wait at most
   * limits.guardLockedTryMs instead of limits.guardBusyMs until one gets through, so a long lock
   * costs one login the longer wait, not one every so often.
   */
  #lockSeen = false;

  constructor(o: { store: Store; logger: Logger; clock: () => number }) {
    this.#store = o.store;
    this.#logger = o.logger;
    this.#clock = o.clock;
  }

  /** The key under which attempts with the same user and secret share one reservation. */
  dedupeKey(...parts: string[]): string {
    const h = createHmac('sha256', this.#key);
    for (const p of parts) h.update(p).update('\0');
    return h.digest('base64');
  }

  /** How long until `k` may see another attempt (0: now), counting failures and checks under way. */
  async verdict(k: GuardKey, now: number): Promise<number> {
    const c = await this.#store.attempts.count(k.key, now - k.windowMs, now);
    return this.#retryAfter(k, c, now);
  }

  /** Failures (without reservations) of `key` since `since`, and the newest of them. */
  async history(key: string, since: number, now: number): Promise<{ failures: number; newest: number | null }> {
    const c = await this.#store.attempts.count(key, since, now);
    const local = this.#localFailures.get(key)?.filter((t) => t > since) ?? [];
    const newest = Math.max(c.newest ?? -Infinity, ...local);
    return { failures: c.n + local.length + (this.#localPending.get(key) ?? 0), newest: Number.isFinite(newest) ? newest : null };
  }

  /**
   * Reserves one check under every key, or none: refused when a key already has `limit` failures
   * and checks under way in its window. Attempts with the same `dedupe` under way in this process
   * share the first one's reservation (and its refusal).
   */
  reserve(dedupe: string, keys: readonly GuardKey[], now: number): Promise<ReserveResult> {
    const running = this.#shared.get(dedupe);
    if (running) {
      running.refs++;
      return running.result.then((r) => (r.ok ? { ok: true, reservation: this.#handle(dedupe, running) } : r));
    }
    const entry: Shared = { result: this.#reserve(dedupe, keys, now), refs: 1, failed: false };
    this.#shared.set(dedupe, entry);
    return entry.result.then((r) => {
      if (!r.ok) {
        this.#shared.delete(dedupe);
        return r;
      }
      return { ok: true, reservation: this.#handle(dedupe, entry) };
    });
  }

  /** Failures under these keys, now (or queued, while the database is locked). */
  async fail(keys: readonly string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.#store.transaction((tx) => tx.attempts.record(keys, now), { busyMs: this.#busyMs() });
      this.#lockSeen = false;
    } catch (err) {
      if (!this.#locked(err)) throw err;
      for (const k of keys) this.#addLocalFailure(k, now);
      this.#store.later({ kind: 'attempt-failed', keys, at: now });
    }
  }

  async #reserve(attempt: string, keys: readonly GuardKey[], now: number): Promise<ReserveResult> {
    try {
      const r = await this.#store.transaction(
        async (tx) => {
          for (const k of keys) {
            const refused = this.#refusal(k, await tx.attempts.count(k.key, now - k.windowMs, now), now);
            if (refused) return refused;
          }
          for (const k of keys) await tx.attempts.insertPending(k.key, attempt, now, now + limits.pendingAttemptMs);
          return { ok: true as const };
        },
        { busyMs: this.#busyMs() },
      );
      // The database takes writes again: what this process noted during a lock is queued ahead of
      // anything new and lands with the next batch; from here the store's counts hold it.
      this.#localFailures.clear();
      this.#lockSeen = false;
      return r.ok ? { ok: true, reservation: this.#storeReservation(attempt) } : r;
    } catch (err) {
      if (!this.#locked(err)) throw err;
      return this.#reserveLocally(keys, now);
    }
  }

  /** While the database is locked: what it holds (reads go on) plus this process's own. */
  async #reserveLocally(keys: readonly GuardKey[], now: number): Promise<ReserveResult> {
    const counts = await Promise.all(keys.map((k) => this.#store.attempts.count(k.key, now - k.windowMs, now)));
    // From here to the end, no await: the check and the reservation are one step for this process.
    for (const [i, k] of keys.entries()) {
      const refused = this.#refusal(k, counts[i] as { n: number; oldest: number | null }, now);
      if (refused) return refused;
    }
    for (const k of keys) this.#localPending.set(k.key, (this.#localPending.get(k.key) ?? 0) + 1);
    this.#logger.warn({ event: 'guard.local', keys: keys.map((k) => k.key.split(':')[0]) }, 'database locked: guessing bound held in this process only');
    let settled = false;
    return {
      ok: true,
      reservation: {
        settle: async (failed) => {
          if (settled) return;
          settled = true;
          const at = this.#clock();
          for (const k of keys) {
            const n = (this.#localPending.get(k.key) ?? 1) - 1;
            if (n <= 0) this.#localPending.delete(k.key);
            else this.#localPending.set(k.key, n);
            if (failed) this.#addLocalFailure(k.key, at);
          }
          if (failed) this.#store.later({ kind: 'attempt-failed', keys: keys.map((k) => k.key), at });
        },
      },
    };
  }

  #storeReservation(attempt: string): Reservation {
    let settled = false;
    return {
      settle: async (failed) => {
        if (settled) return;
        settled = true;
        const at = this.#clock();
        if (!failed) return this.#store.later({ kind: 'attempt-settled', attempt, failed, at });
        try {
          await this.#store.transaction((tx) => tx.attempts.settle(attempt, true, at), { busyMs: this.#busyMs() });
          this.#lockSeen = false;
        } catch (err) {
          if (!this.#locked(err)) throw err;
          // Counted here until the lock goes (the pending row counts meanwhile in the store too).
          this.#store.later({ kind: 'attempt-settled', attempt, failed, at });
        }
      },
    };
  }

  /**
   * A sharer's handle: the shared reservation settles when the last sharer did (failed if any
   * did). A handle never settled (the client left before the verdict) lets go by itself after
   * limits.pendingAttemptMs, as the store's pending row expires then.
   */
  #handle(dedupe: string, entry: Shared): Reservation {
    let done = false;
    const timer = setTimeout(() => void settle(false), limits.pendingAttemptMs);
    timer.unref();
    const settle = async (failed: boolean): Promise<void> => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      entry.failed ||= failed;
      if (--entry.refs > 0) return;
      this.#shared.delete(dedupe);
      const r = await entry.result;
      if (r.ok) await r.reservation.settle(entry.failed);
    };
    return { settle };
  }

  /** How long a write may wait for the lock: limits.guardBusyMs, or a short try while a lock is known. */
  #busyMs(): number {
    return this.#lockSeen ? limits.guardLockedTryMs : limits.guardBusyMs;
  }

  /** True for STORE_BUSY (another process holds the lock), which it remembers until a write gets through. */
  #locked(err: unknown): boolean {
    if (!isTwostepError(err, 'STORE_BUSY')) return false;
    this.#lockSeen = true;
    return true;
  }

  #refusal(k: GuardKey, c: { n: number; oldest: number | null }, now: number): { ok: false; key: string; retryAfterMs: number } | null {
    const retryAfterMs = this.#retryAfter(k, c, now);
    return retryAfterMs > 0 ? { ok: false, key: k.key, retryAfterMs } : null;
  }

  #retryAfter(k: GuardKey, c: { n: number; oldest: number | null }, now: number): number {
    const since = now - k.windowMs;
    const local = this.#localFailures.get(k.key)?.filter((t) => t > since) ?? [];
    const n = c.n + local.length + (this.#localPending.get(k.key) ?? 0);
    if (n < k.limit) return 0;
    const oldest = Math.min(c.oldest ?? Infinity, ...local);
    if (!Number.isFinite(oldest)) return IN_FLIGHT_RETRY_MS;
    return Math.max(IN_FLIGHT_RETRY_MS, oldest + k.windowMs - now);
  }

  #addLocalFailure(key: string, at: number): void {
    if (!this.#localFailures.has(key) && this.#localFailures.size >= limits.guardLocalKeys) {
      const oldest = this.#localFailures.keys().next().value;
      if (oldest !== undefined) this.#localFailures.delete(oldest);
    }
    const list = this.#localFailures.get(key) ?? [];
    list.push(at);
    if (list.length > limits.guardLocalFailuresPerKey) list.splice(0, list.length - limits.guardLocalFailuresPerKey);
    this.#localFailures.set(key, list);
  }
}
