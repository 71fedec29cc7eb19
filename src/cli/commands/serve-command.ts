import { Command } from 'commander';
import { createStderrLogger } from '../../core/logger.js';
import { serve } from '../../main.js';
import { configOf } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the front ends: IMAP, and POP3, SMTP submission and the web portal when their sections are set (JSON logs on stderr)')
    .action(async (_o, cmd: Command) => {
      const config = configOf(cmd);
      const log = createStderrLogger(config.log.level);
      const logger = log.logger;
      const running = await serve(config, logger).catch(async (err: unknown) => {
        await log.end(); // the log lines so far go out before the CLI's one error line
        throw err;
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ event: 'shutdown', signal }, 'stopping');
          running.close().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
