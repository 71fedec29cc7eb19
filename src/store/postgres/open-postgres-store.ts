import { isTwostepError, TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { silentLogger } from '../../core/logger.js';
import type { OpenStoreOptions } from '../open-store.js';
import { QueuedTouchesWebSessions } from '../queued-touches-web-sessions.js';
import type { Store, StoreRepos } from '../store.js';
import { WriteBehind, applyDeferred } from '../write-behind.js';
import { PgAccountsRepo } from './accounts-repo.js';
import { PgAdminsRepo } from './admins-repo.js';
import { PgAppCodesRepo } from './app-codes-repo.js';
import { PgAttemptsRepo } from './attempts-repo.js';
import { PgAuditRepo } from './audit-repo.js';
import { PgMailNoticesRepo } from './mail-notices-repo.js';
import { PgDomainsRepo } from './domains-repo.js';
import { PgKnownSourcesRepo } from './known-sources-repo.js';
import { migratePostgres } from './migrate.js';
import { PgOneTimeCodesRepo } from './one-time-codes-repo.js';
import { PgConnection, type PgExec } from './pg-connection.js';
import { isUnreachable } from './pg-errors.js';
import { RevocationListener } from './revocation-listener.js';
import { PgTrustedDevicesRepo } from './trusted-devices-repo.js';
import { PgWebSessionsRepo } from './web-sessions-repo.js';

/** Repositories run through `x`: the pool, or one transaction (where the guessing bounds lock their keys). */
function reposOf(x: PgExec, inTransaction: boolean): StoreRepos {
  return {
    accounts: new PgAccountsRepo(x),
    appCodes: new PgAppCodesRepo(x),
    oneTimeCodes: new PgOneTimeCodesRepo(x),
    trustedDevices: new PgTrustedDevicesRepo(x),
    audit: new PgAuditRepo(x),
    webSessions: new PgWebSessionsRepo(x),
    admins: new PgAdminsRepo(x),
    attempts: new PgAttemptsRepo(x, inTransaction),
    knownSources: new PgKnownSourcesRepo(x),
    mailNotices: new PgMailNoticesRepo(x),
    domains: new PgDomainsRepo(x),
  };
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * Opens the PostgreSQL store at `url` ([store] url: postgres://user:password@host:5432/db, or a
 * unix socket with ?host=/run/postgresql) and migrates it: the store several twostep nodes share.
 * Every node sees every change on its next query (no cache); revocations also arrive at once
 * through LISTEN/NOTIFY (watchRevocations). Queued writes wait while the database is away and
 * go on when it is back (up to limits.writeBehindMaxItems, as during a SQLite lock).
 */
export async function openPostgresStore(url: string, o: OpenStoreOptions = {}): Promise<Store> {
  const logger = o.logger ?? silentLogger();
  const conn = new PgConnection(url, logger, { transactionMs: o.transactionMs });
  try {
    await migratePostgres(conn);
  } catch (cause) {
    await conn.close().catch(() => {});
    if (isTwostepError(cause)) throw new TwostepError(cause.code, `store.url ${redactedUrl(url)}: ${cause.message}`, { cause });
    throw new TwostepError('STORE_FAILED', `store.url ${redactedUrl(url)}: cannot prepare the database: ${(cause as Error).message}`, { cause });
  }
  const writeBehind = new WriteBehind({
    logger,
    write: async (batch) => {
      try {
        await conn.transaction(async (x) => {
          const tx = reposOf(x, true);
          // The batch's audit events in one multi-row INSERT (a round trip each would cost more
          // than the rest of a login's writes); the others one by one.
          await new PgAuditRepo(x).insertAll(batch.flatMap((w) => (w.kind === 'audit' ? [w.event] : [])));
          for (const w of batch) if (w.kind !== 'audit') await applyDeferred(tx, w);
        });
      } catch (err) {
        // The database away: the batch waits and is tried again, as during a SQLite lock.
        if (isUnreachable(err)) throw new TwostepError('STORE_BUSY', 'the database cannot be reached', { cause: err });
        throw err;
      }
    },
  });
  const listener = new RevocationListener(url, logger);
  const repos = reposOf(conn, false);
  let closing: Promise<void> | undefined;
  return {
    ...repos,
    webSessions: new QueuedTouchesWebSessions(repos.webSessions, writeBehind),
    transaction: (fn) => conn.transaction((x) => fn(reposOf(x, true))),
    later: (w) => writeBehind.add(w),
    flush: (timeoutMs) => writeBehind.flush(timeoutMs),
    stats: () => writeBehind.stats(),
    watchRevocations: (fn) => listener.subscribe(fn),
    close: () =>
      (closing ??= (async () => {
        await writeBehind.close(limits.storeCloseFlushMs);
        await listener.close();
        await conn.close();
        await writeBehind.idle();
      })()),
  };
}
