import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/core/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Every line so far, parsed. */
  lines: Record<string, unknown>[];
  /** Every line so far, as written (for "never this secret" checks). */
  raw: string[];
  /**
   * Resolves once `ready(lines)` holds, checked as each line arrives (an event, not a sleep);
   * false at the deadline.
   */
  until(ready: (lines: Record<string, unknown>[]) => boolean, timeoutMs?: number): Promise<boolean>;
}

/** A real (pino) logger at info whose JSON lines the test reads back. */
export function captureLogger(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      for (const w of waiters) w();
      done();
    },
  });
  const until = (ready: (lines: Record<string, unknown>[]) => boolean, timeoutMs = 10_000): Promise<boolean> =>
    new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (ready(lines)) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      waiters.add(check);
      check();
    });
  return { logger: createLogger({ level: 'info', destination }), lines, raw, until };
}

/** Lines of one event name. */
export const eventLines = (lines: Record<string, unknown>[], event: string): Record<string, unknown>[] => lines.filter((l) => l.event === event);
