import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { TwostepError, isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { OpenStoreOptions } from '../open-store.js';
import type { Store, StoreRepos } from '../store.js';
import { QueuedTouchesWebSessions } from '../queued-touches-web-sessions.js';
import { WriteBehind, applyDeferred } from '../write-behind.js';
import { SqliteAccountsRepo, accountStatements } from './accounts-repo.js';
import { SqliteAdminsRepo, adminStatements } from './admins-repo.js';
import { SqliteAppCodesRepo, appCodeStatements } from './app-codes-repo.js';
import { SqliteAttemptsRepo, attemptStatements } from './attempts-repo.js';
import { SqliteAuditRepo, auditStatements } from './audit-repo.js';
import { SqliteDomainsRepo, domainStatements } from './domains-repo.js';
import { SqliteKnownSourcesRepo, knownSourceStatements } from './known-sources-repo.js';
import { SqliteMailNoticesRepo, mailNoticeStatements } from './mail-notices-repo.js';
import { migrate } from './migrate.js';
import { SqliteOneTimeCodesRepo, oneTimeCodeStatements } from './one-time-codes-repo.js';
import { rememberRawDatabase } from './raw-database.js';
import { SqliteConnection, type Exec } from './sqlite-connection.js';
import { fixSidecarModes, prepareStoreFiles } from './store-files.js';
import { SqliteTrustedDevicesRepo, trustedDeviceStatements } from './trusted-devices-repo.js';
import { SqliteWebSessionsRepo, webSessionStatements } from './web-sessions-repo.js';

function prepareAll(db: Database) {
  return {
    accounts: accountStatements(db),
    appCodes: appCodeStatements(db),
    oneTimeCodes: oneTimeCodeStatements(db),
    trustedDevices: trustedDeviceStatements(db),
    audit: auditStatements(db),
    webSessions: webSessionStatements(db),
    admins: adminStatements(db),
    attempts: attemptStatements(db),
    knownSources: knownSourceStatements(db),
    mailNotices: mailNoticeStatements(db),
    domains: domainStatements(db),
  };
}

/** Repositories over the statements, run through `x`: the connection itself, or one transaction. */
function reposOf(s: ReturnType<typeof prepareAll>, x: Exec): StoreRepos {
  return {
    accounts: new SqliteAccountsRepo(s.accounts, x),
    appCodes: new SqliteAppCodesRepo(s.appCodes, x),
    oneTimeCodes: new SqliteOneTimeCodesRepo(s.oneTimeCodes, x),
    trustedDevices: new SqliteTrustedDevicesRepo(s.trustedDevices, x),
    audit: new SqliteAuditRepo(s.audit, x),
    webSessions: new SqliteWebSessionsRepo(s.webSessions, x),
    admins: new SqliteAdminsRepo(s.admins, x),
    attempts: new SqliteAttemptsRepo(s.attempts, x),
    knownSources: new SqliteKnownSourcesRepo(s.knownSources, x),
    mailNotices: new SqliteMailNoticesRepo(s.mailNotices, x),
    domains: new SqliteDomainsRepo(s.domains, x),
  };
}

/**
 * Open (creating if needed) and migrate the SQLite database at `path` (':memory:' for a private
 * one). The server and the CLI open the same file at once: WAL lets readers and one writer go on
 * together; a lock is waited out asynchronously (see SqliteConnection); repositories never cache,
 * so a change by one process is seen by the other on its next query.
 */
export async function openSqliteStore(path: string, o: OpenStoreOptions = {}): Promise<Store> {
  const memory = path === ':memory:';
  if (!memory) prepareStoreFiles(path);
  let db: Database;
  try {
    db = new BetterSqlite3(path, { timeout: 0 }); // busy_timeout 0: never wait for a lock synchronously
  } catch (cause) {
    throw new TwostepError('STORE_FAILED', `cannot open database ${path}`, { cause });
  }
  const conn = new SqliteConnection(db, { busyMs: o.busyMs, transactionMs: o.transactionMs });
  try {
    const mode = await conn.run(() => db.pragma('journal_mode = WAL', { simple: true }));
    if (!memory && mode !== 'wal') throw new Error(`journal_mode stays ${String(mode)}`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    await migrate(conn);
    if (!memory) fixSidecarModes(path);
  } catch (cause) {
    db.close();
    if (isTwostepError(cause)) throw cause;
    throw new TwostepError('STORE_FAILED', `cannot prepare database ${path}`, { cause });
  }
  return sqliteStore(conn, o.logger ?? silentLogger());
}

function sqliteStore(conn: SqliteConnection, logger: Logger): Store {
  const statements = prepareAll(conn.db);
  const writeBehind = new WriteBehind({
    logger,
    // One try per call: the queue waits between tries itself, for as long as the lock lasts.
    write: (batch) =>
      conn.transaction(
        async (x) => {
          const tx = reposOf(statements, x);
          for (const w of batch) await applyDeferred(tx, w);
        },
        { busyMs: 0 },
      ),
  });
  let closing: Promise<void> | undefined;
  const repos = reposOf(statements, conn);
  const store: Store = {
    ...repos,
    webSessions: new QueuedTouchesWebSessions(repos.webSessions, writeBehind),
    transaction: (fn, opts) => conn.transaction((x) => fn(reposOf(statements, x)), opts),
    later: (w) => writeBehind.add(w),
    flush: (timeoutMs) => writeBehind.flush(timeoutMs),
    stats: () => writeBehind.stats(),
    watchRevocations: () => () => {}, // no channel between SQLite processes: the watcher polls
    close: (flushMs = limits.storeCloseFlushMs) =>
      (closing ??= (async () => {
        await writeBehind.close(flushMs);
        await conn.close();
        await writeBehind.idle();
      })()),
  };
  rememberRawDatabase(store, conn.db);
  return store;
}
