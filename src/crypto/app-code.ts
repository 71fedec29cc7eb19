import { randomCode } from './random-code.js';

export const APP_CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** 16 letters ≈ 75 bits of entropy, e.g. RFSALANSXUAFAYDT. */
export const APP_CODE_LENGTH = 16;

/** A fresh application code: 16 uniformly random letters A-Z. */
export function generateAppCode(): string {
  return randomCode(APP_CODE_ALPHABET, APP_CODE_LENGTH);
}

/**
 * Canonical form of what a client typed as an application code: uppercase, spaces and dashes
 * removed. Null unless exactly 16 letters A-Z remain (so a normal password is recognised as
 * "not an application code" without hashing anything).
 */
export function normalizeAppCode(input: string): string | null {
  if (input.length > 64) return null;
  const s = input.replace(/[\s-]/g, '').toUpperCase();
  return /^[A-Z]{16}$/.test(s) ? s : null;
}
