import cluster from 'node:cluster';
import type { Config } from '../../config/schema.js';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import { createStderrLogger } from '../../core/logger.js';
import { serve, type Running } from '../../main.js';
import { IpcChannel } from './ipc-channel.js';
import { passesThroughSupervisor } from './shared-passes.js';
import type { SupervisorQuestions, ToSupervisor, ToWorker, WorkerQuestions, WorkerStart } from './worker-messages.js';

/**
 * One of [server] workers: the process the supervisor (supervisor.ts) forks. It waits for its
 * start message (its number and the supervisor's config), runs `serve` as a worker (every
 * listener bound through the supervisor, shared with the other workers), says "ready", and
 * from then on does what the supervisor says: reload, shut down gracefully, exit now. It
 * answers the supervisor's questions (metrics, readiness) and asks it for the portal's passes.
 *
 * Signals: SIGTERM / SIGINT sent to the worker itself (a terminal's Ctrl-C reaches every
 * process of the group) start the same graceful shutdown, once; SIGHUP is ignored, as a reload
 * is the supervisor's to check once and pass on. When the supervisor dies, node:cluster ends
 * the worker at once.
 */
async function runWorker(): Promise<void> {
  const channel = new IpcChannel<ToSupervisor, ToWorker, SupervisorQuestions, WorkerQuestions>(
    (m) =>
      new Promise<void>((resolve) => {
        if (!process.connected || !process.send) return resolve();
        process.send(m, undefined, {}, () => resolve());
      }),
  );
  process.on('message', (m) => channel.receive(m));
  process.on('disconnect', () => channel.close());
  process.on('SIGHUP', () => {});

  let running: Running | undefined;
  let pendingReload: Config | undefined;
  let stopRequest: string | undefined;
  const start: WorkerStart = await channel.ask('start', null, limits.workerStartMs);
  const log = createStderrLogger(start.config.log.level, { bindings: { worker: start.id }, maxWrite: limits.workerLogWriteBytes });
  const logger = log.logger;

  let stopping = false;
  const stop = (signal: string): void => {
    if (!running) {
      stopRequest ??= signal; // still starting: the shutdown follows the start
      return;
    }
    if (stopping) return; // the supervisor says when to stop waiting ('exit-now')
    stopping = true;
    const r = running;
    setTimeout(() => {
      logger.error({ event: LogEvent.shutdownForced, signal, graceMs: r.graceMs() }, 'shutdown still running at the end of the grace: exiting now');
      void log.end().finally(() => process.exit(1));
    }, r.graceMs() + limits.shutdownOverrunMs).unref();
    r.shutdown(signal).then(
      async (summary) => {
        await channel.notify('stopped', summary);
        await log.end();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ event: LogEvent.shutdownForced, signal, ...logSafeError(err) }, 'shutdown failed');
        void log.end().finally(() => process.exit(1));
      },
    );
  };
  channel.onNotice('reload', ({ config }) => {
    if (running) running.reload(config);
    else pendingReload = config;
  });
  channel.onNotice('shutdown', ({ signal }) => stop(signal));
  channel.onNotice('exit-now', ({ signal }) => {
    logger.warn({ event: LogEvent.shutdownForced, signal }, `${signal} again: exiting now`);
    void log.end().finally(() => process.exit(1));
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    running = await serve(start.config, logger, {
      configPath: start.configPath,
      worker: {
        id: start.id,
        workers: start.workers,
        csrfKey: Buffer.from(start.csrfKey, 'base64'),
        ticketKeys: Buffer.from(start.ticketKeys, 'base64'),
        passes: passesThroughSupervisor(channel),
      },
    });
  } catch (err) {
    logger.error({ event: LogEvent.workerFailed, ...logSafeError(err) }, 'worker start failed');
    await channel.notify('failed', {
      ...(isTwostepError(err) ? { code: err.code } : {}),
      message: err instanceof Error ? err.message : String(err),
    });
    await log.end();
    process.exit(1);
  }
  const r = running;
  if (start.config.metrics) {
    const { prometheusRegistry } = await import('../prometheus-metrics.js');
    channel.answer('metrics', () => prometheusRegistry().getMetricsAsJSON());
  }
  channel.answer('readiness', () => r.readiness?.check() ?? { ready: true, checks: {} });
  await channel.notify('ready', { pid: process.pid });
  if (pendingReload) r.reload(pendingReload);
  if (stopRequest) stop(stopRequest);
}

if (cluster.isWorker) await runWorker();
