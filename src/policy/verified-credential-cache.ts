import { createHmac, randomBytes } from 'node:crypto';
import type { AppCodeScope } from '../store/types.js';

/**
 * What a cached verification proved: this code row of this account matched the presented code;
 * with what the row says the code may do (fixed when it is made).
 */
export interface VerifiedCredential {
  accountId: number;
  codeId: number;
  codeName: string;
  scopes: AppCodeScope[] | null;
  expiresAt: number | null;
}

interface Entry extends VerifiedCredential {
  username: string;
  /** When this entry stops counting (the cache's lifetime, not the code's expiresAt). */
  staleAt: number;
}

export interface VerifiedCredentialCacheOptions {
  /** Lifetime of an entry, ms; 0 turns the cache off (every login runs argon2). */
  ttlMs: number;
  /** Most entries held; the oldest is dropped first. */
  maxEntries: number;
}

/**
 * Verified (user, application code) pairs, so that a client that logs in again and again (a phone
 * checking mail every minute opens a connection each time) costs one argon2 verification per
 * ttlMs instead of one per login.
 *
 * The key is HMAC-SHA256(a random per-process key, user NUL code): neither the code nor an
 * offline-checkable hash of it is kept, and the key never leaves memory. A hit only says "this
 * code matched row codeId"; the caller must still check that the row is active (one indexed
 * query), so a revoke made by another process (the CLI) is honoured at the next login even while
 * the entry lives. In this process, every mutation that ends a code's validity also calls
 * invalidateUser, so nothing stale is even looked at.
 */
export class VerifiedCredentialCache {
  readonly #key = randomBytes(32);
  #o: VerifiedCredentialCacheOptions;
  /** Insertion order = age order (re-adding moves an entry to the end). */
  readonly #entries = new Map<string, Entry>();
  /** Verifications running now, by key: concurrent logins with the same code share one. */
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(o: VerifiedCredentialCacheOptions) {
    this.#o = o;
  }

  /**
   * A new lifetime ([auth] login_cache_seconds changed on SIGHUP): entries cached so far keep
   * theirs; 0 forgets them all.
   */
  setTtl(ttlMs: number): void {
    this.#o = { ...this.#o, ttlMs };
    if (ttlMs <= 0) this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  get enabled(): boolean {
    return this.#o.ttlMs > 0 && this.#o.maxEntries > 0;
  }

  /** The verified credential for (username, normalized code), or undefined (absent or expired). */
  get(username: string, code: string, now: number): VerifiedCredential | undefined {
    if (!this.enabled) return undefined;
    const k = this.#keyOf(username, code);
    const e = this.#entries.get(k);
    if (!e) return undefined;
    if (e.staleAt <= now || e.username !== username) {
      this.#entries.delete(k);
      return undefined;
    }
    return { accountId: e.accountId, codeId: e.codeId, codeName: e.codeName, scopes: e.scopes, expiresAt: e.expiresAt };
  }

  /**
   * Runs `verify` for (username, code), or joins the run already under way for the same pair,
   * so parallel connections presenting one code cost one argon2 verification. Off when the cache
   * is off (then every login verifies on its own).
   */
  once<T>(username: string, code: string, verify: () => Promise<T>): Promise<T> {
    if (!this.enabled) return verify();
    const k = this.#keyOf(username, code);
    const running = this.#running.get(k) as Promise<T> | undefined;
    if (running) return running;
    const p = verify().finally(() => this.#running.delete(k));
    this.#running.set(k, p);
    return p;
  }

  /** Remember a successful argon2 verification. */
  put(username: string, code: string, v: VerifiedCredential, now: number): void {
    if (!this.enabled) return;
    const k = this.#keyOf(username, code);
    this.#entries.delete(k);
    this.#entries.set(k, { ...v, username, staleAt: now + this.#o.ttlMs });
    while (this.#entries.size > this.#o.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Forget every entry of this (normalized) user: revoke, disable, disallow, reset, re-enrol. */
  invalidateUser(username: string): void {
    for (const [k, e] of this.#entries) if (e.username === username) this.#entries.delete(k);
  }

  /** Forget every entry of this account. */
  invalidateAccount(accountId: number): void {
    for (const [k, e] of this.#entries) if (e.accountId === accountId) this.#entries.delete(k);
  }

  /** Forget one code row wherever it is cached. */
  invalidateCode(codeId: number): void {
    for (const [k, e] of this.#entries) if (e.codeId === codeId) this.#entries.delete(k);
  }

  clear(): void {
    this.#entries.clear();
  }

  #keyOf(username: string, code: string): string {
    return createHmac('sha256', this.#key).update(username).update('\0').update(code).digest('base64');
  }
}
