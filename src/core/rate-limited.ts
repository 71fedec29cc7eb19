/**
 * "At most one line per interval, with how many were held back": for lines an attacker or an
 * overload can trigger thousands of times a second (refused connections, EMFILE). Per key.
 */
export class RateLimited {
  readonly #everyMs: number;
  readonly #clock: () => number;
  readonly #keys = new Map<string, { last: number; held: number }>();

  constructor(everyMs: number, clock: () => number = Date.now) {
    this.#everyMs = everyMs;
    this.#clock = clock;
  }

  /**
   * Calls `say` with the number of occurrences it stands for (this one and those held back since
   * the last line) when the key's interval has passed; otherwise only counts.
   */
  hit(key: string, say: (count: number) => void): void {
    const now = this.#clock();
    const k = this.#keys.get(key);
    if (k && now - k.last < this.#everyMs) {
      k.held++;
      return;
    }
    const count = (k?.held ?? 0) + 1;
    this.#keys.set(key, { last: now, held: 0 });
    say(count);
  }
}
