import type {
  Account,
  AdminAccount,
  AdminPolicy,
  AppCode,
  AppCodeUse,
  AuditEvent,
  MailNotice,
  NewAppCode,
  NewAuditEvent,
  NewMailNotice,
  NewOneTimeCode,
  NewTrustedDevice,
  NewWebSession,
  OneTimeCode,
  TrustedDevice,
  WebSession,
  WebSessionKind,
} from './types.js';
import type { AccountsConsoleRepo, AdminsConsoleRepo, AuditConsoleRepo, DomainsRepo } from './console-store.js';
import type { AttemptsRepo, KnownSourcesRepo } from './guessing-repos.js';

export type { AttemptsRepo, KnownSourcesRepo } from './guessing-repos.js';

/**
 * The store as everything above it sees it: asynchronous repositories, transactions, and a
 * write-behind queue. One implementation per database (src/store/sqlite/, the embedded default,
 * and src/store/postgres/ for several nodes); nothing outside src/store knows which one runs.
 *
 * Every method returns a Promise and may reject with:
 * - TwostepError('STORE_BUSY') when the database stayed locked by another process for
 *   limits.storeBusyMs (a write, or a transaction; reads are not blocked by another writer);
 * - the driver's own error for anything else (a constraint, a full disk), which the policy turns
 *   into STORE_FAILED.
 */

/** Accounts keyed by lowercased user name. Every call reads the database (no cache). */
export interface AccountsRepo extends AccountsConsoleRepo {
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
  /** Of these ids, those whose code has an expiry at or before `now`. One query. */
  expiredAmong(ids: readonly number[], now: number): Promise<number[]>;
  /**
   * Active codes of accounts with two-step on that expire after `after` and at or before
   * `before`, whose "expires soon" notice is not queued yet; oldest expiry first, at most `limit`.
   */
  expiringUnnoticed(after: number, before: number, limit: number): Promise<ExpiringAppCode[]>;
  /** Records that the expiry notice of this code was queued. False if it already was. */
  markExpiryNoticed(id: number, at: number): Promise<boolean>;
}

/** An application code with its account's user name (expiringUnnoticed). */
export type ExpiringAppCode = AppCode & { username: string };

/**
 * Mails to users about their account (see MailNotice), queued here by any process and sent by
 * `serve`. A notice is due at `nextAt`; a sender claims it for a while (so two senders never
 * send one notice twice), then marks it sent, due again later, or given up.
 */
export interface MailNoticesRepo {
  insert(n: NewMailNotice): Promise<number>;
  /** When the user's latest notice of this kind was queued, or null. */
  lastQueuedAt(username: string, kind: string): Promise<number | null>;
  /**
   * Up to `limit` notices due at `now` (not sent, not given up, not held by a sender past `now`),
   * oldest due first, each now held until `until`. Atomic: two senders never get the same one.
   */
  claimDue(now: number, until: number, limit: number): Promise<MailNotice[]>;
  markSent(id: number, at: number): Promise<boolean>;
  /** One more failed attempt: due again at `nextAt`, no longer held. */
  markRetry(id: number, nextAt: number, error: string): Promise<boolean>;
  /** One more failed attempt, and no more: given up at `at`. */
  markFailed(id: number, at: number, error: string): Promise<boolean>;
  /** Deletes sent or given-up notices queued before `before`; at most `batch`; returns how many. */
  prune(before: number, batch: number): Promise<number>;
  /** The user's notices, newest first (the admin's and the tests' view). */
  listForUser(username: string, limit: number): Promise<MailNotice[]>;
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
export interface AuditRepo extends AuditConsoleRepo {
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
export interface AdminsRepo extends AdminsConsoleRepo {
  findByName(name: string): Promise<AdminAccount | undefined>;
  list(): Promise<AdminAccount[]>;
  insert(name: string, passwordHash: string, now: number): Promise<number>;
  setPassword(id: number, passwordHash: string, now: number): Promise<void>;
  /** A new key, unproven (totpConfirmedAt null) until confirmTotp. */
  setTotp(id: number, secretEnc: Buffer, now: number): Promise<void>;
  /** Accept `step` once: false for a replayed or older step. */
  advanceTotpStep(id: number, step: number, now: number): Promise<boolean>;
  delete(id: number): Promise<boolean>;
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
  readonly mailNotices: MailNoticesRepo;
  readonly domains: DomainsRepo;
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
  /**
   * A user signed in from a source (known-sources); `noticeIfNew` is queued as a mail notice when
   * the source was not known before (a new browser, a code's new network).
   */
  | { kind: 'source-seen'; username: string; source: string; at: number; noticeIfNew?: NewMailNotice }
  /** A mail notice to queue; with `quietMs`, not when one of its kind for the user was queued that recently. */
  | { kind: 'mail-notice'; notice: NewMailNotice; quietMs?: number };

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

/**
 * An application code that no longer signs in, as a process or node reported it: `codeId` null
 * means every code of the account (its two-step authentication went off).
 */
export interface RevocationNotice {
  accountId: number;
  codeId: number | null;
}

export interface TransactionOptions {
  /**
   * How long to wait for another process's lock before STORE_BUSY (default limits.storeBusyMs):
   * a caller with a fallback (the guessing bounds) waits less. SQLite's notion (another process
   * holds the whole database, e.g. a backup); PostgreSQL waits at most limits.pgLockWaitMs for a
   * lock of another node (a row, a guessing key: held for milliseconds) whatever this says.
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
   * Calls `fn` as soon as any process or node revokes an application code or turns an account's
   * two-step authentication off (PostgreSQL: LISTEN/NOTIFY), and with null when notices may have
   * been missed (the channel was down and is back). SQLite has no such channel and never calls
   * it: the revocation watcher's poll covers it. Returns the function that unsubscribes.
   */
  watchRevocations(fn: (notice: RevocationNotice | null) => void): () => void;
  /**
   * Flushes (at most `flushMs`, default limits.storeCloseFlushMs: a shutdown passes what is left
   * of its grace; what is still queued then is logged as lost) and closes. Idempotent.
   */
  close(flushMs?: number): Promise<void>;
}
