import { describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.js';
import { RestartBackoff } from '../../src/server/cluster/restart-backoff.js';

/** The supervisor's pause before starting a dead worker again (src/server/cluster/restart-backoff.ts). */
describe('worker restart backoff', () => {
  const first = limits.workerRestartFirstMs;

  it('doubles with each death in a row, up to the cap', () => {
    const b = new RestartBackoff();
    const pauses: number[] = [];
    let t = 1_000_000;
    for (let i = 0; i < 20; i++) {
      const started = t;
      t += 10; // dies at once, again and again
      pauses.push(b.next(started, t));
    }
    expect(pauses.slice(0, 4)).toEqual([first, 2 * first, 4 * first, 8 * first]);
    expect(Math.max(...pauses)).toBe(limits.workerRestartMaxMs);
    expect(pauses.at(-1)).toBe(limits.workerRestartMaxMs);
    for (let i = 1; i < pauses.length; i++) expect(pauses[i]).toBeGreaterThanOrEqual(pauses[i - 1] as number);
    expect(b.inARow).toBe(20);
  });

  it('a worker that ran long enough before it died starts the count over', () => {
    const b = new RestartBackoff();
    expect(b.next(0, 10)).toBe(first);
    expect(b.next(20, 30)).toBe(2 * first);
    expect(b.next(40, 40 + limits.workerStableMs)).toBe(first);
    expect(b.inARow).toBe(1);
    // Just short of stable: still in a row.
    expect(b.next(0, limits.workerStableMs - 1)).toBe(2 * first);
  });
});
