import type {
  Account,
  AdminAccount,
  AdminPolicy,
  AppCode,
  AppCodeUse,
  AuditEvent,
  NewAppCode,
  NewAuditEvent,
  NewOneTimeCode,
  NewTrustedDevice,
  NewWebSession,
  OneTimeCode,
  TrustedDevice,
  WebSession,
  WebSessionKind,
} from './types.js';

/**
 * The store as everything above it sees it: asynchronous repositories, transactions, and a
 * write-behind queue. One implementation per database (src/store/sqlite/ today, PostgreSQL
 * later); nothing outside src/store knows which one runs.
 *
 * Every method returns a Promise and may reject with:
 * - TwostepError('STORE_BUSY') when the database stayed locked by another process for
 *   limits.storeBusyMs (a write, or a transaction; reads are not blocked by another writer);
 * - the driver's own error for anything else (a constraint, a full disk), which the policy turns
 *   into STORE_FAILED.
 */

/** Accounts keyed by lowercased user name. Every call reads the database (no cache). */
export interface AccountsRepo {
  findByUsername(username: string): Promise<Account | undefined>;
  /** Every account, by name, at most `limit` (the admin console's user list). */
  listAll(limit: number): Promise<Account[]>;
  create(username: string, adminPolicy: AdminPolicy, now: number): Promise<Account>;
  setAdminPolicy(id: number, policy: AdminPolicy, now: number): Promise<void>;
  /** State 'pending' with a new encrypted TOTP key (replaces any earlier pending key). */
  setTotpPending(id: number, secretEnc: Buffer, now: number): Promise<void>;
  /** pending → on, recording the confirmed step. False if the account was no longer pending. */
  setTwofaOn(id: number, confirmedStep: number, now: number): Promise<boolean>;
  /** State 'off'; TOTP key and last step wiped. */
  clearTwofa(id: number, now: number): Promise<void>;
  /**
   * Record `step` as the last accepted TOTP step, atomically and only if it is newer than the
   * stored one. False means a replay (or 2FA went off meanwhile).
   */
  advanceTotpStep(id: number, step: number, now: number): Promise<boolean>;
}

/** Application codes. "Active" means not revoked. Every call reads the database (no cache). */
export interface AppCodesRepo {
  insert(c: NewAppCode): Promise<number>;
  findActiveByLookup(accountId: number, lookup: string): Promise<AppCode | undefined>;
  findActiveByName(accountId: number, name: string): Promise<AppCode | undefined>;
  listActive(accountId: number): Promise<AppCode[]>;
  countActive(accountId: number): Promise<number>;
  /** Record a successful use. False if the code was revoked meanwhile. */
  markUsed(id: number, use: AppCodeUse): Promise<boolean>;
  revoke(id: number, at: number): Promise<boolean>;
  revokeAllForAccount(accountId: number, at: number): Promise<number>;
  /**
   * Of these ids, those that still sign in: not revoked, and their account's two-step
   * authentication is on. One query.
   */
  stillValidAmong(ids: readonly number[]): Promise<number[]>;
}

/** One-time (recovery) codes. Every call reads the database (no cache). */
export interface OneTimeCodesRepo {
  insert(c: NewOneTimeCode): Promise<number>;
  findUnusedByLookup(accountId: number, lookup: string): Promise<OneTimeCode | undefined>;
  listForAccount(accountId: number): Promise<OneTimeCode[]>;
  countUnused(accountId: number): Promise<number>;
  /** Consume a code. False if it was already used (a concurrent use won). */
  markUsed(id: number, at: number): Promise<boolean>;
  deleteForAccount(accountId: number): Promise<number>;
}

/** Devices ("trust this computer") that skip the second factor. Every call reads the database. */
export interface TrustedDevicesRepo {
  insert(d: NewTrustedDevice): Promise<number>;
  findActive(accountId: number, tokenHash: string): Promise<TrustedDevice | undefined>;
  listActive(accountId: number): Promise<TrustedDevice[]>;
  countActive(accountId: number): Promise<number>;
  touch(id: number, at: number): Promise<boolean>;
  revoke(id: number, at: number): Promise<boolean>;
  /** Revoke every active device of the account, or every one but `exceptId`. */
  revokeAllForAccount(accountId: number, at: number, exceptId?: number): Promise<number>;
}

/** Append-only security log. */
export interface AuditRepo {
  insert(e: NewAuditEvent): Promise<number>;
  /** Deletes at most `batch` events older than `at` (oldest first); returns how many. */
  deleteBefore(at: number, batch: number): Promise<number>;
  /** Newest first, filtered: `event` matches itself and its sub-events ("login" matches "login.fail"). */
  search(opts: { username?: string; event?: string; protocol?: string; limit: number }): Promise<AuditEvent[]>;
  /** Newest first. */
  list(opts: { username?: string; limit: number }): Promise<AuditEvent[]>;
}

/** Web portal sessions, keyed by the SHA-256 of the cookie token. Every call reads the database. */
export interface WebSessionsRepo {
  insert(s: NewWebSession): Promise<number>;
  findByTokenHash(tokenHash: string): Promise<WebSession | undefined>;
  touch(id: number, at: number): Promise<void>;
  setReauth(id: number, at: number): Promise<void>;
  deleteByTokenHash(tokenHash: string): Promise<boolean>;
  /** Sign out everywhere: every session of this user (or admin). */
  deleteForSubject(kind: WebSessionKind, subject: string): Promise<number>;
  /** Sessions past their deadline, or last seen at or before `idleBefore`. */
  deleteExpired(now: number, idleBefore: number): Promise<number>;
  /** Records the trusted device of the browser holding this session (revoking it ends the session). */
  setDevice(tokenHash: string, deviceId: number): Promise<void>;
  /** Ends the sessions of these trusted devices, but the one of `exceptTokenHash`; returns how many. */
  deleteForDevices(deviceIds: readonly number[], exceptTokenHash?: string): Promise<number>;
}

/** Admin console accounts (not mail users). Every call reads the database. */
export interface AdminsRepo {
  findByName(name: string): Promise<AdminAccount | undefined>;
  list(): Promise<AdminAccount[]>;
  insert(name: string, passwordHash: string, now: number): Promise<number>;
  setPassword(id: number, passwordHash: string, now: number): Promise<void>;
  setTotp(id: number, secretEnc: Buffer, now: number): Promise<void>;
  /** Accept `step` once: false for a replayed or older step. */
  advanceTotpStep(id: number, step: number, now: number): Promise<boolean>;
  delete(id: number): Promise<boolean>;
}

/**
 * Attempts counted against the guessing bounds (src/policy/attempt-guard.ts): failures, and
 * reservations of checks still under way (pending rows, counted until `expiresAt`), per key
 * ("ip:203.0.113.7", "user:alice", "user:alice|net:203.0.113.0/24", "2fa:alice", ...). Shared by
 * every process and node on the store, and kept across restarts.
 */
export interface AttemptsRepo {
  /**
   * The rows of `key` after `since` that count at `now` (failures, and pending rows not
   * yet expired): how many, and the oldest and newest of their times.
   */
  count(key: string, since: number, now: number): Promise<{ n: number; oldest: number | null; newest: number | null }>;
  /** A pending row of reservation `attempt` under `key`. */
  insertPending(key: string, attempt: string, at: number, expiresAt: number): Promise<void>;
  /** The pending rows of `attempt` become failures at `at` (failed), or are deleted (not failed). */
  settle(attempt: string, failed: boolean, at: number): Promise<void>;
  /** A failure under each key at `at` (no reservation before it). */
  record(keys: readonly string[], at: number): Promise<void>;
  /** Deletes expired pending rows and failures older than `before`; at most `batch`; returns how many. */
  prune(before: number, now: number, batch: number): Promise<number>;
}

/**
 * Where each user has signed in from before ("net:203.0.113.0/24", "browser:<hash>"): sources the
 * owner uses keep working while strangers' guesses are bounded for the account.
 */
export interface KnownSourcesRepo {
  /** True when the user signed in from `source` at or after `since`. */
  has(username: string, source: string, since: number): Promise<boolean>;
  /** When the user last signed in from `source`, or null. */
  lastAt(username: string, source: string): Promise<number | null>;
  /** Records a sign-in from `source` at `at`; true when the source was not known before. */
  note(username: string, source: string, at: number): Promise<boolean>;
  /** Forgets sources not seen since `before`; returns how many. */
  prune(before: number): Promise<number>;
}

/** The repositories: of the store (each call on its own), or of one transaction. */
export interface StoreRepos {
  readonly accounts: AccountsRepo;
  readonly appCodes: AppCodesRepo;
  readonly oneTimeCodes: OneTimeCodesRepo;
  readonly trustedDevices: TrustedDevicesRepo;
  readonly audit: AuditRepo;
  readonly webSessions: WebSessionsRepo;
  readonly admins: AdminsRepo;
  readonly attempts: AttemptsRepo;
  readonly knownSources: KnownSourcesRepo;
}

/**
 * A write nothing waits for (see Store.later): the audit trail, Last Used of application codes,
 * the last-seen times of trusted devices and portal sessions.
 */
export type DeferredWrite =
  | { kind: 'audit'; event: NewAuditEvent }
  | { kind: 'app-code-used'; codeId: number; use: AppCodeUse }
  | { kind: 'device-seen'; deviceId: number; at: number }
  | { kind: 'web-session-seen'; sessionId: number; at: number }
  /** A reservation of a check settled (attempt-guard.ts): a failure, or gone. */
  | { kind: 'attempt-settled'; attempt: string; failed: boolean; at: number }
  /** Failures that could not be written at once (the database was locked). */
  | { kind: 'attempt-failed'; keys: readonly string[]; at: number }
  /** A user signed in from a source (known-sources). */
  | { kind: 'source-seen'; username: string; source: string; at: number };

/** Counters of the write-behind queue, for logs and metrics. */
export interface WriteBehindStats {
  /** Writes waiting now (not yet in a transaction). */
  queued: number;
  /** Writes stored since the start. */
  written: number;
  /** Times a batch found the database locked and waited to try again. */
  retries: number;
  /** Writes given up after a fault other than a lock (logged each time). */
  failures: number;
  /** Writes refused because the queue was full (limits.writeBehindMaxItems). */
  dropped: number;
  /** Age of the oldest waiting write, ms (0 when none waits). */
  oldestAgeMs: number;
}

export interface TransactionOptions {
  /**
   * How long to wait for another process's lock before STORE_BUSY (default limits.storeBusyMs):
   * a caller with a fallback (the guessing bounds) waits less.
   */
  busyMs?: number;
}

export interface Store extends StoreRepos {
  /**
   * Runs `fn` in one transaction (all or nothing) with repositories bound to it; the database's
   * write lock is taken up front (waiting up to limits.storeBusyMs, asynchronously, for another
   * process to let go). One transaction at a time per store: others wait their turn.
   *
   * `fn` may await only calls on `tx` (each takes microseconds): no argon2, no network, no
   * call on the store itself (it would wait for this transaction to end). A transaction still
   * open after limits.storeTransactionMs is rolled back and fails, and so do the calls that were
   * waiting for it.
   */
  transaction<T>(fn: (tx: StoreRepos) => Promise<T> | T, o?: TransactionOptions): Promise<T>;
  /**
   * Queues a write that no one waits for: written in order, in batches (one transaction each),
   * as soon as the database takes writes. While the database is locked it waits and retries;
   * nothing is dropped unless the queue is full (limits.writeBehindMaxItems, logged).
   * Returns at once.
   */
  later(w: DeferredWrite): void;
  /**
   * Resolves once every write queued before the call is stored (true), or after `timeoutMs`
   * (false: the database is still locked; the writes stay queued).
   */
  flush(timeoutMs?: number): Promise<boolean>;
  stats(): WriteBehindStats;
  /**
   * Flushes (at most `flushMs`, default limits.storeCloseFlushMs: a shutdown passes what is left
   * of its grace; what is still queued then is logged as lost) and closes. Idempotent.
   */
  close(flushMs?: number): Promise<void>;
}
