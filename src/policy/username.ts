import { limits } from '../core/limits.js';

/** Canonical account key: trimmed and lowercased. */
export function normalizeUsername(user: string): string {
  return user.trim().toLowerCase();
}

/** Why a user name is unacceptable (empty, over-long, control characters), or null. */
export function usernameProblem(user: string): string | null {
  const t = user.trim();
  if (t.length === 0) return 'empty';
  if (user.length > limits.userNameChars) return 'too long';
  // C0 controls (incl. NUL), DEL, C1 controls, line/paragraph separators.
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(user)) return 'control character';
  return null;
}
