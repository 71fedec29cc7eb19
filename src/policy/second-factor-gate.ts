import { secondFactorLimits as L } from '../core/limits.js';

/** Failed second-step attempts of one account (from one class of source) within the window. */
export interface SecondFactorHistory {
  failures: number;
  /** Time of the latest of them, or null when there is none. */
  lastFailureAt: number | null;
}

export interface SecondFactorGate {
  /** 0: an attempt may be made now; else how long until the next one may. */
  waitMs: number;
  /** False once too many codes were wrong: only a one-time code is accepted. */
  totp: boolean;
}

/** How long the wait after the n-th failure is (n counted within the window, 1-based). */
export function waitAfterFailure(n: number): number {
  if (n < L.secondFactorFreeFailures) return 0;
  const doublings = n - L.secondFactorFreeFailures;
  return Math.min(L.secondFactorMaxWaitMs, L.secondFactorFirstWaitMs * 2 ** Math.min(doublings, 30));
}

/** The escalation of limits.secondFactorLimits, as a verdict for the next attempt. */
export function secondFactorGate(h: SecondFactorHistory, now: number): SecondFactorGate {
  const totp = h.failures < L.secondFactorTotpFailures;
  if (h.lastFailureAt === null) return { waitMs: 0, totp };
  const until = h.lastFailureAt + waitAfterFailure(h.failures);
  return { waitMs: Math.max(0, until - now), totp };
}
