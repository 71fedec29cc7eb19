import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured JSON logs: fields cid, proto, event, user, ip, reason. Secrets never reach a log:
 * they travel as Secret (prints "[redacted]") and these paths are censored as a second guard.
 */
const REDACT_PATHS = [
  'password',
  'secret',
  'code',
  'passcode',
  'key',
  '*.password',
  '*.secret',
  '*.code',
  '*.passcode',
  '*.key',
  'master_password',
  '*.master_password',
];

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? process.env.TWOSTEP_LOG_LEVEL ?? 'info',
    base: { svc: 'twostep' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination(2));
}

/** A logger that drops everything: for tests and CLI commands that do not log. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A logger on stderr, and end(): writes out the lines it still buffers (pino writes them
 * asynchronously) and stops it, so a line written to stderr afterwards comes last.
 */
export function createStderrLogger(level: string): { logger: Logger; end(): Promise<void> } {
  const destination = pino.destination(2);
  const logger = createLogger({ level, destination });
  return {
    logger,
    end: () =>
      new Promise<void>((resolve) => {
        destination.once('close', () => resolve());
        destination.end();
      }),
  };
}

