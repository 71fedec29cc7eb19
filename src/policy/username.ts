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
  if (/[\p{Cc}\u2028\u2029]/u.test(user)) return 'control character';
  return null;
}

/**
 * True when a client's user name would reach Dovecot's master login: it holds the master user
 * separator ("alice*proxymaster") or is the master user itself. Such names are refused before
 * any backend contact (and before a throttle key is made of them).
 */
export function isMasterSpelling(user: string, backend: { master_user: string; master_separator: string }): boolean {
  const u = normalizeUsername(user);
  if (backend.master_separator !== '' && u.includes(backend.master_separator.toLowerCase())) return true;
  return u === normalizeUsername(backend.master_user);
}
