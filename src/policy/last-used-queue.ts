import type { AppCodeUse } from '../store/app-codes-repo.js';

export interface LastUsedQueueOptions {
  /** Writes the batch (the newest use of each code id) in one transaction; may throw. */
  write(batch: ReadonlyMap<number, AppCodeUse>): void;
  /** How long a use may wait before it is written, ms (0: on the next turn of the event loop). */
  delayMs: number;
  /** A failed write: the batch is dropped (Last Used is informational) and the error reported. */
  onError(err: unknown, lost: number): void;
}

/**
 * Last Used of application codes, written off the login path: a login only notes the use here;
 * the uses noted within delayMs go to the database together in one transaction, and only the
 * newest use of each code is kept. flush() writes at once (before a read of Last Used, and on
 * close, so a clean shutdown loses nothing).
 */
export class LastUsedQueue {
  readonly #o: LastUsedQueueOptions;
  #pending = new Map<number, AppCodeUse>();
  #timer: NodeJS.Timeout | undefined;

  constructor(o: LastUsedQueueOptions) {
    this.#o = o;
  }

  get pending(): number {
    return this.#pending.size;
  }

  note(codeId: number, use: AppCodeUse): void {
    const cur = this.#pending.get(codeId);
    if (!cur || cur.at <= use.at) this.#pending.set(codeId, use);
    this.#timer ??= setTimeout(() => this.flush(), this.#o.delayMs);
  }

  /** Write what is pending now; never throws (see onError). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      this.#o.write(batch);
    } catch (err) {
      this.#o.onError(err, batch.size);
    }
  }
}
