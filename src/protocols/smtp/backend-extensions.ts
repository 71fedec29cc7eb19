import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import { metrics } from '../../core/metrics.js';
import { passedOnExtensions } from './ehlo-extensions.js';

/**
 * What the backend offers (SIZE, 8BITMIME, PIPELINING...), learnt from a probe EHLO and kept for
 * limits.smtpExtensionsTtlMs, so every client's EHLO is answered with what the backend will
 * really accept after AUTH, without a backend connection per client before AUTH. One probe at a
 * time; a failed probe gives null (clients then see only twostep's own STARTTLS and AUTH) and
 * is retried after limits.smtpExtensionsRetryMs.
 */
export class BackendExtensions {
  readonly #probe: () => Promise<string[]>;
  readonly #log: Logger;
  #value: string[] | null = null;
  #until = 0;
  #inFlight: Promise<string[] | null> | undefined;

  constructor(probe: () => Promise<string[]>, log: Logger) {
    this.#probe = probe;
    this.#log = log;
  }

  get(): Promise<string[] | null> {
    if (Date.now() < this.#until) return Promise.resolve(this.#value);
    this.#inFlight ??= this.#probe().then(
      (lines) => {
        this.#value = passedOnExtensions(lines);
        this.#until = Date.now() + limits.smtpExtensionsTtlMs;
        return this.#value;
      },
      (err: unknown) => {
        this.#log.warn({ event: LogEvent.backendProbeFailed, ...logSafeError(err) });
        metrics.backendError('smtp');
        this.#value = null;
        this.#until = Date.now() + limits.smtpExtensionsRetryMs;
        return null;
      },
    ).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }
}
