import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { TwostepError, isTwostepError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { deriveKeys } from '../crypto/derive-keys.js';
import { createArgon2Hasher, type Hasher } from '../crypto/hasher.js';
import type { Store, StoreRepos } from '../store/store.js';
import type { Account, NewAuditEvent, NewMailNotice } from '../store/types.js';
import { limits } from '../core/limits.js';
import { AttemptGuard } from './attempt-guard.js';
import { NOTICE_SWITCH, type NoticeKind } from './notice-kinds.js';
import { RefusalTiming } from './refusal-timing.js';
import { normalizeUsername, usernameProblem } from './username.js';
import { VerifiedCredentialCache } from './verified-credential-cache.js';

export interface PolicyOptions {
  store: Store;
  /** 32-byte master key (loadOrCreateKeyFile); encryption and lookup keys are derived from it. */
  masterKey: Buffer;
  config: Config;
  logger: Logger;
  /** Unix ms; injectable for tests. */
  clock?: () => number;
  /** argon2id by default; injectable so tests can count verifications. */
  hasher?: Hasher;
  /** Waits ms milliseconds (setTimeout by default); injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
/** Additional authenticated data binding an encrypted secret to its row. */
export const totpContext = (accountId: number) => `totp:${accountId}`;
export const oneTimeContext = (accountId: number) => `otc:${accountId}`;

/** Where the current request comes from: set by a front end around its calls (see Policy.withAuditOrigin). */
export interface AuditOrigin {
  protocol: string;
  ip: string;
}

const auditOrigin = new AsyncLocalStorage<AuditOrigin>();

/** Runs `fn` (and everything it awaits) with `origin` filling the protocol and IP of audit events that name none. */
export function runWithAuditOrigin<T>(origin: AuditOrigin, fn: () => T): T {
  return auditOrigin.run(origin, fn);
}

/**
 * What every policy operation shares: the store, derived keys, clock, hasher, throttles, and
 * the small helpers (account lookup, transactions, audit). Internal to src/policy.
 */
export class PolicyContext {
  readonly store: Store;
  #config: Config;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly hasher: Hasher;
  readonly sleep: (ms: number) => Promise<void>;
  readonly encKey: Buffer;
  readonly lookupKey: Buffer;
  /** The guessing bounds, kept in the store (shared by every process, kept across restarts). */
  readonly guard: AttemptGuard;
  /** How long the mail server takes to refuse a password: every refusal takes as long. */
  readonly refusalTiming = new RefusalTiming();
  /** Per bound key, the end of the lockout whose first refusal was audited (see firstRefusal). */
  readonly #lockouts = new Map<string, number>();
  /** Verified (user, code) pairs: repeated logins skip argon2 (see VerifiedCredentialCache). */
  readonly verified: VerifiedCredentialCache;
  #dummyHash: Promise<string> | undefined;

  constructor(opts: PolicyOptions) {
    this.store = opts.store;
    this.#config = opts.config;
    this.logger = opts.logger;
    this.clock = opts.clock ?? Date.now;
    this.hasher = opts.hasher ?? createArgon2Hasher();
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const keys = deriveKeys(opts.masterKey);
    this.encKey = keys.encryptionKey;
    this.lookupKey = keys.lookupKey;
    this.guard = new AttemptGuard({ store: this.store, logger: this.logger, clock: this.clock });
    this.verified = new VerifiedCredentialCache({
      ttlMs: opts.config.auth.login_cache_seconds * 1000,
      maxEntries: limits.verifiedCredentialMaxEntries,
    });
  }

  /** The config every rule reads at each call (so a reload applies to the next call). */
  get config(): Config {
    return this.#config;
  }

  /** A reloaded config (SIGHUP): rules read it from the next call on; the login cache takes its new lifetime. */
  reconfigure(config: Config): void {
    this.#config = config;
    this.verified.setTtl(config.auth.login_cache_seconds * 1000);
  }

  /**
   * Queues the event for the audit trail and returns at once (the store's write-behind queue
   * writes it, waiting out a locked database): no login waits for its audit record, and an
   * audit write never undoes an action that already happened. A write given up is logged there.
   */
  audit(e: NewAuditEvent): void {
    const o = auditOrigin.getStore();
    const event = o === undefined ? e : { ...e, protocol: e.protocol === undefined ? o.protocol : e.protocol, ip: e.ip === undefined ? o.ip : e.ip };
    this.store.later({ kind: 'audit', event });
  }

  /** True when [notify] is on and sends notices of this kind. */
  notifies(kind: NoticeKind): boolean {
    return this.config.notify?.[NOTICE_SWITCH[kind]] === true;
  }

  /**
   * The mail notice of `kind` for the user, or undefined when [notify] is absent or turns this
   * kind off. `detail` names what the text needs, never a secret; the client's address is added
   * from the request's origin (the portal) when not given.
   */
  notice(username: string, kind: NoticeKind, detail: Record<string, unknown> = {}): NewMailNotice | undefined {
    if (!this.notifies(kind)) return undefined;
    const ip = auditOrigin.getStore()?.ip;
    return { username, kind, detail: ip === undefined || 'ip' in detail ? detail : { ...detail, ip }, createdAt: this.clock() };
  }

  /**
   * Queues the notice (write-behind: nothing waits for it, `serve` sends it). With `quietMs`, not
   * when one of the kind was queued for the user that recently (a lockout repeated all day).
   */
  notify(username: string, kind: NoticeKind, detail?: Record<string, unknown>, quietMs?: number): void {
    const notice = this.notice(username, kind, detail);
    if (notice) this.store.later({ kind: 'mail-notice', notice, ...(quietMs === undefined ? {} : { quietMs }) });
  }

  /**
   * One transaction (all or nothing) with the repositories bound to it; database faults become
   * STORE_FAILED, a lock held past limits.storeBusyMs STORE_BUSY. `fn` may await only calls on
   * `tx` (see Store.transaction): hash, encrypt and check before, audit after.
   */
  tx<T>(fn: (tx: StoreRepos) => Promise<T>): Promise<T> {
    return this.wrapStore(() => this.store.transaction(fn));
  }

  /** Database faults become TwostepError('STORE_FAILED'); rule violations (and STORE_BUSY) pass through. */
  wrapStore<T>(fn: () => Promise<T>): Promise<T> {
    return fn().catch(storeFault);
  }

  /** Waits (at most limits.storeReadSettleMs) for this process's queued writes, before a read that shows them. */
  async settleWrites(): Promise<void> {
    await this.store.flush(limits.storeReadSettleMs);
  }

  /** A hash of a random value: verifying against it costs what a real check costs. */
  dummyHash(): Promise<string> {
    this.#dummyHash ??= this.hasher.hash(randomBytes(16).toString('hex'));
    return this.#dummyHash;
  }

  /** Normalized user name for admin and portal calls, else INVALID_INPUT. */
  adminUsername(user: string): string {
    const problem = usernameProblem(user);
    if (problem !== null) throw new TwostepError('INVALID_INPUT', `invalid user name (${problem})`);
    return normalizeUsername(user);
  }

  readAccount(username: string): Promise<Account | undefined> {
    return this.store.accounts.findByUsername(username).catch(storeFault);
  }

  async requireAccount(user: string): Promise<Account> {
    const username = this.adminUsername(user);
    const a = await this.readAccount(username);
    if (!a) throw new TwostepError('USER_NOT_FOUND', `no such user: ${username}`);
    return a;
  }

  async requireOn(user: string): Promise<Account> {
    const a = await this.requireAccount(user);
    if (a.twofaState !== 'on') throw new TwostepError('BAD_STATE', `two-step authentication is not on for ${a.username}`);
    return a;
  }

  /**
   * True for the first refusal by bound `key` of a lockout lasting until `until` (audit that one,
   * not every one: an attack must not flood the trail). Per process; bounded memory.
   */
  firstRefusal(key: string, until: number): boolean {
    const seen = this.#lockouts.get(key);
    if (seen !== undefined && Math.abs(seen - until) < 1000) return false;
    if (this.#lockouts.size >= limits.guardLocalKeys) this.#lockouts.clear();
    this.#lockouts.set(key, until);
    return true;
  }

  /**
   * Inside transaction `tx`: two-step off and everything it granted gone (the account row stays).
   * Also forgets the account's verified codes in memory.
   */
  async wipeTwoStep(tx: StoreRepos, accountId: number, now: number): Promise<void> {
    this.verified.invalidateAccount(accountId);
    await tx.accounts.clearTwofa(accountId, now);
    await tx.appCodes.revokeAllForAccount(accountId, now);
    await tx.oneTimeCodes.deleteForAccount(accountId);
    await tx.trustedDevices.revokeAllForAccount(accountId, now);
  }
}

/** A database fault as STORE_FAILED; twostep's own errors (rules, STORE_BUSY) as they are. */
function storeFault(err: unknown): never {
  if (isTwostepError(err)) throw err;
  throw new TwostepError('STORE_FAILED', 'database operation failed', { cause: err });
}
