import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { secretKeyPath, storeLocation } from '../config/runtime-config.js';
import { configFileError } from '../core/config-file-error.js';
import { LogEvent } from '../core/log-events.js';
import type { Logger } from '../core/logger.js';
import { ARGON2_TEST_PARAMS, argon2ParamsFrom, createArgon2Hasher, loadOrCreateKeyFile } from '../crypto/index.js';
import { Policy } from '../policy/index.js';
import { openStore, type Store } from '../store/index.js';
import { KickingPolicy } from '../verify/kicking-policy.js';
import { createSessionKicker } from '../verify/session-kicker.js';

export interface OpenedPolicy {
  policy: Policy;
  /**
   * Waits for the [dovecot] kick_command runs started by revokes so far; returns one line per
   * failure. Call before close() (the CLI shows the lines as warnings).
   */
  drain(): Promise<string[]>;
  /** The store, for its write-behind counters (metrics, the shutdown line, /readyz). */
  store: Store;
  /** Writes what is queued (audit, Last Used; waiting at most `flushMs` for a locked database), then closes the store. */
  close(flushMs?: number): Promise<void>;
}

/**
 * Composition of config → store → key file → policy, shared by `serve` and the admin commands.
 * The store comes first: it creates its folder (0700), where the key file goes by default.
 */
export async function openPolicy(config: Config, logger: Logger): Promise<OpenedPolicy> {
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(storeLocation(config), { logger });
  } catch (err) {
    if (config.store.url !== undefined) throw err; // names store.url and why (open-postgres-store.ts)
    // The folder or file cannot be made or opened (EACCES, SQLITE_CANTOPEN, "file is not a
    // database"), also as the store's own error's cause: one line naming the key and the path.
    // A busy or locked database passes as it is.
    const fault = [err, (err as { cause?: unknown }).cause].find((e): e is Error & { code: string } =>
      e instanceof Error && /^E[A-Z]+$|^SQLITE_(CANTOPEN|NOTADB|READONLY|PERM|CORRUPT)/.test(String((e as { code?: unknown }).code)),
    );
    if (!fault) throw err;
    throw configFileError('store.path', config.store.path, `cannot open the database: ${fault.message} (${fault.code})`, err);
  }
  let masterKey: Buffer;
  try {
    if (config.store.url !== undefined) await refuseNewKeyForSharedStore(store, secretKeyPath(config));
    masterKey = loadOrCreateKeyFile(secretKeyPath(config));
  } catch (err) {
    await store.close();
    throw err;
  }
  const kickArgv = config.dovecot?.kick_command ?? [];
  const kicker = kickArgv.length > 0 ? createSessionKicker(kickArgv, logger) : undefined;
  const argon2 = argon2ParamsFrom(process.env);
  if (argon2 === ARGON2_TEST_PARAMS) logger.warn({ event: LogEvent.argon2TestParameters }, 'argon2 runs at the test suite\'s cost (NODE_ENV=test, TWOSTEP_TEST_ARGON2=cheap): never in production');
  const opts = { store, masterKey, config, logger, hasher: createArgon2Hasher(argon2) };
  const policy = kicker ? new KickingPolicy(opts, kicker) : new Policy(opts);
  return {
    policy,
    drain: () => kicker?.drain() ?? Promise.resolve([]),
    close: (flushMs) => store.close(flushMs),
    store,
  };
}

/**
 * A shared (PostgreSQL) store that already holds accounts or admins was keyed by another node's
 * key file: a new key here would fail every code and TOTP key there, so none is made.
 */
async function refuseNewKeyForSharedStore(store: Store, keyPath: string): Promise<void> {
  if (existsSync(keyPath)) return;
  if ((await store.accounts.listAll(1)).length === 0 && (await store.admins.list()).length === 0) return;
  throw configFileError(
    'store.secret_key_file',
    keyPath,
    'missing, and the shared database already holds accounts: copy the key file from a node that uses this database',
  );
}
