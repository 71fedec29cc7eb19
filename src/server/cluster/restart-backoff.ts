import { limits } from '../../core/limits.js';

/**
 * How long to wait before starting a worker again after it died: limits.workerRestartFirstMs
 * after a death, doubling with each death in a row up to limits.workerRestartMaxMs; a worker
 * that ran limits.workerStableMs or longer before it died starts the count over.
 */
export class RestartBackoff {
  #inARow = 0;

  /** A worker that started at `startedAt` died at `now`: the pause before its replacement. */
  next(startedAt: number, now: number): number {
    if (now - startedAt >= limits.workerStableMs) this.#inARow = 0;
    const ms = Math.min(limits.workerRestartMaxMs, limits.workerRestartFirstMs * 2 ** this.#inARow);
    this.#inARow++;
    return ms;
  }

  /** Deaths in a row so far. */
  get inARow(): number {
    return this.#inARow;
  }
}
