import { describe, expect, it } from 'vitest';
import { secondFactorLimits as L } from '../../src/core/limits.js';
import { secondFactorGate, waitAfterFailure } from '../../src/policy/second-factor-gate.js';

describe('second-factor escalation', () => {
  it('free at first, then waits that double up to an hour, then one-time codes only', () => {
    expect(secondFactorGate({ failures: 0, lastFailureAt: null }, 0)).toEqual({ waitMs: 0, totp: true });
    expect(secondFactorGate({ failures: 4, lastFailureAt: 1000 }, 1000)).toEqual({ waitMs: 0, totp: true });
    expect(secondFactorGate({ failures: 5, lastFailureAt: 1000 }, 1000)).toEqual({ waitMs: 60_000, totp: true });
    expect(secondFactorGate({ failures: 6, lastFailureAt: 1000 }, 31_000)).toEqual({ waitMs: 90_000, totp: true });
    expect(waitAfterFailure(11)).toBe(3_600_000);
    expect(waitAfterFailure(1000)).toBe(3_600_000);
    expect(secondFactorGate({ failures: 100, lastFailureAt: 0 }, 10 * 3_600_000)).toEqual({ waitMs: 0, totp: false });
  });

  it('bounds the odds of guessing the second step over 30 days below 0.1 %', () => {
    // The most attempts one attacker can make in the window: each as soon as the gate allows.
    let t = 0;
    let failures = 0;
    let totpTries = 0;
    let oneTimeTries = 0;
    let last: number | null = null;
    while (t < L.secondFactorWindowMs) {
      const g = secondFactorGate({ failures, lastFailureAt: last }, t);
      if (g.waitMs > 0) {
        t += g.waitMs;
        continue;
      }
      if (g.totp) totpTries++;
      else oneTimeTries++;
      failures++;
      last = t;
    }
    const odds = totpTries * (3 / 1e6) + oneTimeTries * (10 / 1e8);
    expect(totpTries).toBe(L.secondFactorTotpFailures);
    expect(totpTries + oneTimeTries).toBeLessThan(800);
    expect(odds).toBeLessThan(0.001);
  });
});
