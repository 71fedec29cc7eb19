import { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { createStderrLogger } from '../../core/logger.js';
import { serve } from '../../main.js';
import { runSupervisor, workerCount } from '../../server/cluster/supervisor.js';
import { configPathOf } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'run the front ends: IMAP, and POP3, SMTP submission and the web portal when their sections are set (JSON logs on stderr); ' +
        'SIGHUP reloads the config and certificates, SIGTERM stops within [server] shutdown_grace_seconds; ' +
        '[server] workers processes (default: one per core) share the listeners',
    )
    .action(async (_o, cmd: Command) => {
      const configPath = configPathOf(cmd);
      const config = loadConfig(configPath);
      const workers = workerCount(config);
      if (workers > 1) return runSupervisor(config, configPath, workers); // src/server/cluster
      const log = createStderrLogger(config.log.level);
      const logger = log.logger;
      // A SIGHUP while the backends are still being checked must not kill the process (its
      // default action): it is noted and the reload runs once everything listens. One listener
      // for the whole life of the process: swapping listeners closes libuv's signal handle, and
      // a SIGHUP caught by it but not yet dispatched would be lost.
      const hup: { reload?: () => void; whileStarting: boolean } = { whileStarting: false };
      const onHup = (): void => {
        if (hup.reload) hup.reload();
        else hup.whileStarting = true;
      };
      process.on('SIGHUP', onHup);
      const running = await serve(config, logger, { configPath }).catch(async (err: unknown) => {
        process.off('SIGHUP', onHup);
        await log.end(); // the log lines so far go out before the CLI's one error line
        throw err;
      });
      hup.reload = () => running.reload();
      if (hup.whileStarting) running.reload();

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            // The admin insists: no more waiting.
            logger.warn({ event: LogEvent.shutdownForced, signal }, `${signal} again: exiting now`);
            process.exit(1);
          }
          stopping = true;
          const graceMs = running.graceMs();
          let done = false;
          // However the shutdown goes, the process is gone shortly after the grace.
          setTimeout(() => {
            if (!done) logger.error({ event: LogEvent.shutdownForced, signal, graceMs }, 'shutdown still running at the end of the grace: exiting now');
            process.exit(done ? 0 : 1);
          }, graceMs + limits.shutdownOverrunMs).unref();
          running.shutdown(signal).then(
            () => {
              done = true;
              resolve();
            },
            (err: unknown) => {
              logger.error({ event: LogEvent.shutdownForced, signal, err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
    });
}
