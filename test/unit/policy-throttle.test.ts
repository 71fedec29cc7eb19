import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../src/policy/failure-throttle.js';

describe('FailureThrottle', () => {
  it('refuses after `limit` failures in the window and recovers as they slide out', () => {
    const t = new FailureThrottle({ limit: 3, windowMs: 10_000 });
    t.record('k', 0);
    t.record('k', 1_000);
    expect(t.check('k', 1_500).retryAfterMs).toBe(0);
    t.record('k', 2_000);
    expect(t.check('k', 2_500)).toEqual({ retryAfterMs: 7_500, firstRefusal: true });
    expect(t.check('k', 3_000)).toEqual({ retryAfterMs: 7_000, firstRefusal: false });
    expect(t.check('k', 10_000).retryAfterMs).toBe(0); // the failure at 0 left the window
    t.record('k', 10_000);
    expect(t.check('k', 10_001)).toEqual({ retryAfterMs: 999, firstRefusal: true }); // a new lockout
    expect(t.check('other', 10_001).retryAfterMs).toBe(0);
  });

  it('keeps memory bounded', () => {
    const t = new FailureThrottle({ limit: 2, windowMs: 1_000, maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) t.record(`ip${i}`, i);
    expect(t.size).toBeLessThanOrEqual(100);
    t.record('late', 5_000); // everything else has expired: swept
    expect(t.size).toBeLessThanOrEqual(100);
  });

  it('counts attempts in flight (held) until released, so a parallel burst cannot outrun the limit', () => {
    const t = new FailureThrottle({ limit: 3, windowMs: 10_000 });
    t.record('k', 0);
    const a = t.hold('k');
    const b = t.hold('k');
    // One failure and two attempts in flight fill the budget of three.
    expect(t.check('k', 1)).toEqual({ retryAfterMs: 1_000, firstRefusal: false });
    expect(t.check('other', 1).retryAfterMs).toBe(0);
    a();
    a(); // releasing twice counts once
    expect(t.check('k', 2).retryAfterMs).toBe(0);
    b();
    t.record('k', 3); // b's verdict: a failure
    expect(t.check('k', 4).retryAfterMs).toBe(0); // two failures, nothing in flight
    t.record('k', 5);
    expect(t.check('k', 6)).toEqual({ retryAfterMs: 9_994, firstRefusal: true }); // three recorded failures
    expect(t.check('k', 10_001).retryAfterMs).toBe(0);
  });
});
