/** The repositories of the guessing bounds (part of the Store interface, src/store/store.ts). */

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
