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
  /** Fields on every line after svc, e.g. { worker: 2 } in a worker process. */
  bindings?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? process.env.TWOSTEP_LOG_LEVEL ?? 'info',
    base: { svc: 'twostep', ...opts.bindings },
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
 * asynchronously) and stops it, so a line written to stderr afterwards comes last. With workers
 * (`shared`), several processes write to the same stderr: each write holds whole lines and at
 * most maxWrite bytes (limits.workerLogWriteBytes, PIPE_BUF), so lines never interleave.
 */
export function createStderrLogger(
  level: string,
  shared?: { bindings: Record<string, unknown>; maxWrite: number },
): { logger: Logger; end(): Promise<void> } {
  const destination = shared ? pino.destination({ dest: 2, minLength: 0, maxWrite: shared.maxWrite }) : pino.destination(2);
  const logger = createLogger({ level, destination, ...(shared ? { bindings: shared.bindings } : {}) });
  return {
    logger,
    end: () =>
      new Promise<void>((resolve) => {
        destination.once('close', () => resolve());
        destination.end();
      }),
  };
}

