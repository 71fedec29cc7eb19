import { randomCode } from './random-code.js';

/** How many one-time (recovery) codes a set holds. */
export const ONE_TIME_CODES_PER_SET = 10;
/** 8 decimal digits; they are only accepted for a known user, throttled and single-use. */
export const ONE_TIME_CODE_LENGTH = 8;

export function generateOneTimeCode(): string {
  return randomCode('0123456789', ONE_TIME_CODE_LENGTH);
}

/** Canonical form: spaces and dashes removed; null unless exactly 8 digits remain. */
export function normalizeOneTimeCode(input: string): string | null {
  if (input.length > 64) return null;
  const s = input.replace(/[\s-]/g, '');
  return /^[0-9]{8}$/.test(s) ? s : null;
}

/** Display form, e.g. "1234 5678". normalizeOneTimeCode() accepts it back. */
export function formatOneTimeCode(code: string): string {
  return `${code.slice(0, 4)} ${code.slice(4)}`;
}
