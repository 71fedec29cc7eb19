import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { describeListenError } from '../../checks/listen-error.js';
import { loadTlsFiles } from '../../checks/tls-files.js';
import { loadConfig } from '../../config/load-config.js';
import type { Config } from '../../config/schema.js';
import { formatHostPort } from '../../core/host-port.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import { createStderrLogger } from '../../core/logger.js';
import { PasswordCheckPasses } from '../../verify/password-check-passes.js';
import { configChanges } from '../config-changes.js';
import type { RunningMetrics } from '../metrics-server.js';
import { checkBeforeWorkers } from './checks-once.js';
import { answerPasses } from './shared-passes.js';
import { WorkerPool } from './worker-pool.js';

/**
 * How connections reach the workers: every worker accepts from the shared listening socket (the
 * kernel's choice), not the supervisor accepting each and handing it to the next worker in turn
 * (node:cluster's round robin). Measured on a 2-core machine (docs/operations.md, "Workers"):
 * logins at 16 clients 10-13 % faster, transfers no different beyond the noise, workers within
 * 60/40 of each other; and a worker that dies loses only the connections it had accepted, where
 * round robin may hand a new one to it in the instant before the supervisor sees it gone (that
 * client then hangs). The
 * environment's NODE_CLUSTER_SCHED_POLICY ("rr" | "none"), when set, decides instead.
 */
const SCHEDULING = cluster.SCHED_NONE;

/** [server] workers, or one per core when unset (at most limits.workersMax). */
export function workerCount(config: Config, cores = availableParallelism()): number {
  return config.server.workers ?? Math.max(1, Math.min(limits.workersMax, cores));
}

/**
 * `twostep serve` with [server] workers > 1: the supervisor. It runs the start-up checks once
 * (checks-once.ts), forks the workers (worker-pool.ts), which share every listener through it,
 * and serves /metrics, /healthz and /readyz itself for all of them. SIGHUP: the file and the
 * certificates are checked here once, then every worker reloads. SIGTERM / SIGINT: every worker
 * shuts down gracefully; one `shutdown` line adds up their counts; a second signal exits at once.
 * Resolves when the shutdown is over; throws the single process's errors at start.
 */
export async function runSupervisor(start: Config, configPath: string, workers: number): Promise<void> {
  const log = createStderrLogger(start.log.level, { bindings: { role: 'supervisor' }, maxWrite: limits.workerLogWriteBytes });
  const logger = log.logger;
  let current = start;
  // One SIGHUP listener for the whole life of the process: swapping listeners (off, then on)
  // closes libuv's signal handle, and a SIGHUP already caught by it but not yet dispatched is
  // lost (seen: a reload right after "ready" never happened). Until the workers listen, a SIGHUP
  // is noted and the reload runs once everything listens.
  const hup: { reload?: () => void; whileStarting: boolean } = { whileStarting: false };
  const onHup = (): void => {
    if (hup.reload) hup.reload();
    else hup.whileStarting = true;
  };
  process.on('SIGHUP', onHup);
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = SCHEDULING;
  const csrfKey = randomBytes(32).toString('base64');
  // One set of session ticket keys for every worker (and every restart): a client resumes at whichever accepts it.
  const ticketKeys = randomBytes(48).toString('base64');
  const passes = new PasswordCheckPasses();
  const pool = new WorkerPool({
    count: workers,
    logger,
    start: (id) => ({ id, workers, config: current, configPath, csrfKey, ticketKeys }),
    answer: (channel) => answerPasses(channel, passes),
  });
  let stopping = false;
  let metrics: RunningMetrics | undefined;
  try {
    await checkBeforeWorkers(start, logger);
    if (start.metrics) {
      const { clusterMetrics, clusterReadiness } = await import('./cluster-metrics.js');
      const { startMetricsServer } = await import('../metrics-server.js');
      metrics = await startMetricsServer({
        listen: start.metrics.listen,
        readiness: clusterReadiness(pool, () => stopping),
        logger,
        source: clusterMetrics(pool, workers),
      });
    }
    await pool.start();
  } catch (err) {
    process.off('SIGHUP', onHup);
    await metrics?.close();
    await log.end(); // the log lines so far go out before the CLI's one error line
    throw describeListenError(err, start); // e.g. metrics.listen in use: the key named, exit 2
  }
  logger.info(
    {
      event: LogEvent.ready,
      workers,
      backend: formatHostPort(start.imap.backend),
      ...(start.pop3 ? { pop3Backend: formatHostPort(start.pop3.backend) } : {}),
      ...(start.smtp ? { smtpBackend: formatHostPort(start.smtp.backend) } : {}),
      ...(start.portal ? { portalPort: start.portal.listen.port } : {}),
      ...(start.dovecot ? { verifySocket: start.dovecot.verify_socket } : {}),
      ...(metrics ? { metricsPort: metrics.address.port } : {}),
    },
    `twostep ready: ${workers} workers`,
  );

  /** SIGHUP: checked here once (the file, the certificates); then each worker applies it and says what changed. */
  hup.reload = (): void => {
    let loaded: Config;
    try {
      loaded = loadConfig(configPath);
      const next = configChanges(current, loaded).effective;
      loadTlsFiles(next);
      current = next;
    } catch (err) {
      logger.error({ event: LogEvent.reloadFailed }, `reload refused, the running config stays: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    logger.level = current.log.level;
    pool.broadcast('reload', { config: loaded });
  };
  if (hup.whileStarting) hup.reload();

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn({ event: LogEvent.shutdownForced, signal }, `${signal} again: exiting now`);
        pool.exitNow(signal);
        void log.end().finally(() => process.exit(1));
        return;
      }
      stopping = true;
      const began = Date.now();
      const graceMs = current.server.shutdown_grace_seconds * 1000;
      // Each worker exits within the grace and its overrun; this is the supervisor's backstop.
      setTimeout(() => {
        logger.error({ event: LogEvent.shutdownForced, signal, graceMs }, 'workers still running after the grace: killed');
        pool.kill();
        void log.end().finally(() => process.exit(1));
      }, graceMs + limits.shutdownOverrunMs + limits.supervisorStopMarginMs).unref();
      pool
        .stop(signal)
        .then(async ({ summaries, unreported }) => {
          await metrics?.close();
          const sum = (k: 'preLogin' | 'loggedIn' | 'cut' | 'writesLost') => summaries.reduce((n, s) => n + s[k], 0);
          logger.info(
            {
              event: LogEvent.shutdown,
              signal,
              graceMs,
              preLogin: sum('preLogin'),
              loggedIn: sum('loggedIn'),
              cut: sum('cut'),
              writesLost: sum('writesLost'),
              durationMs: Date.now() - began,
              workers,
              ...(unreported > 0 ? { unreported } : {}),
            },
            'stopped',
          );
          await log.end();
          resolve();
        })
        .catch((err: unknown) => {
          logger.error({ event: LogEvent.shutdownForced, signal, ...logSafeError(err) }, 'shutdown failed');
          void log.end().finally(() => process.exit(1));
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
