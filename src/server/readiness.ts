import type { Config } from '../config/schema.js';
import { backendTarget } from '../config/runtime-config.js';
import { isTwostepError } from '../core/errors.js';
import { formatHostPort } from '../core/host-port.js';
import { limits } from '../core/limits.js';
import type { Store } from '../store/index.js';
import { probeGreeting, type GreetedProtocol } from './backend-greeting.js';

/** /readyz's answer: each check "ok" or what is wrong. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

function why(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * The store takes writes: a write transaction (nothing written) within limits.readyStoreBusyMs.
 * Another process holding the lock (a backup) is no fault while it is short: logins go on and
 * their writes wait in the queue; only once the oldest waits limits.readyWriteAgeMs is it one.
 */
async function checkStore(store: Store): Promise<string> {
  try {
    await store.transaction(() => undefined, { busyMs: limits.readyStoreBusyMs });
    return 'ok';
  } catch (err) {
    if (!isTwostepError(err, 'STORE_BUSY')) return `not writable: ${why(err)}`;
    const age = store.stats().oldestAgeMs;
    if (age < limits.readyWriteAgeMs) return 'ok';
    return `locked by another process: writes waiting for ${Math.round(age / 1000)} s`;
  }
}

/**
 * Whether `serve` can do its work now: every configured backend greets, and the store takes
 * writes. Answers are kept limits.readyCacheMs, and one check runs at a time, so a scraper
 * polling fast costs the backends one connection each per interval.
 */
export class ReadinessCheck {
  readonly #config: Config;
  readonly #store: Store;
  readonly #clock: () => number;
  #last: { at: number; value: Readiness } | undefined;
  #running: Promise<Readiness> | undefined;
  #stopping = false;

  constructor(config: Config, store: Store, clock: () => number = Date.now) {
    this.#config = config;
    this.#store = store;
    this.#clock = clock;
  }

  /** Shutdown began: not ready from now on (a load balancer sends new clients elsewhere). */
  stopping(): void {
    this.#stopping = true;
  }

  check(): Promise<Readiness> {
    if (this.#stopping) return Promise.resolve({ ready: false, checks: { server: 'shutting down' } });
    if (this.#last && this.#clock() - this.#last.at < limits.readyCacheMs) return Promise.resolve(this.#last.value);
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<Readiness> {
    const c = this.#config;
    const backends: [string, GreetedProtocol, Config['imap'] | NonNullable<Config['pop3'] | Config['smtp']>][] = [['imap.backend', 'imap', c.imap]];
    if (c.pop3) backends.push(['pop3.backend', 'pop3', c.pop3]);
    if (c.smtp) backends.push(['smtp.backend', 'smtp', c.smtp]);
    const results = await Promise.all([
      ...backends.map(async ([key, protocol, section]): Promise<[string, string]> => {
        const target = backendTarget(c, section.backend, section.backend_tls);
        try {
          await probeGreeting(protocol, target, limits.readyProbeMs);
          return [key, 'ok'];
        } catch (err) {
          return [key, `${formatHostPort(section.backend)}: ${why(err)}`];
        }
      }),
      checkStore(this.#store).then((r): [string, string] => ['store', r]),
    ]);
    const checks = Object.fromEntries(results);
    const value = { ready: results.every(([, r]) => r === 'ok'), checks };
    this.#last = { at: this.#clock(), value };
    return value;
  }
}
