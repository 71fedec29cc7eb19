import { limits } from '../core/limits.js';

/**
 * How long the mail server takes to refuse a password (passthrough logins), so that every
 * refusal twostep gives takes as long: a two-step account's main password is refused without
 * asking anyone, and answering it sooner than the server answers a wrong password would tell
 * anyone timing the answers which accounts use two-step authentication (and Dovecot answers an
 * unknown user sooner than a wrong password, which the same padding hides). Keeps the latest
 * limits.refusalTimingSamples times and answers their 90th percentile, at most
 * limits.refusalTimingMaxMs.
 */
export class RefusalTiming {
  readonly #samples: number[] = [];
  #next = 0;
  #p90 = 0;

  /** A backend refusal that took `ms` from the start of the attempt. */
  note(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.#samples.length < limits.refusalTimingSamples) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % limits.refusalTimingSamples;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    this.#p90 = Math.min(limits.refusalTimingMaxMs, sorted[Math.floor(sorted.length * 0.9)] ?? 0);
  }

  /** How long from the start of an attempt a refusal is held back: the configured delay, or the server's usual time if longer. */
  target(configuredMs: number): number {
    return Math.max(configuredMs, this.#p90);
  }
}
