import { authenticator } from 'otplib';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30 s steps. */
export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Accepted clock drift, in steps either side of now. */
export const TOTP_WINDOW = 1;

/** A fresh base32 TOTP key (160 bits, RFC 4226's recommended length). */
export function generateTotpKey(): string {
  return authenticator.generateSecret(20);
}

/** otpauth:// URI for QR codes and manual entry. */
export function totpUri(issuer: string, account: string, key: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const q = new URLSearchParams({
    secret: key,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${q.toString()}`;
}

/** The time step (counter) that contains `nowMs`. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The code for `key` at `nowMs` (for tests and tooling). */
export function totpCode(key: string, nowMs: number): string {
  return authenticator.clone({ epoch: nowMs }).generate(key);
}

/**
 * The step a 6-digit `code` belongs to if it is valid within ±TOTP_WINDOW steps of `nowMs`,
 * else null. The caller rejects a step ≤ the last accepted one (replay).
 */
export function matchTotp(key: string, code: string, nowMs: number): number | null {
  const c = code.replace(/[\s-]/g, '');
  if (!/^[0-9]{6}$/.test(c)) return null;
  let delta: number | null;
  try {
    delta = authenticator.clone({ epoch: nowMs, window: TOTP_WINDOW }).checkDelta(c, key);
  } catch {
    return null;
  }
  return delta === null ? null : totpStep(nowMs) + delta;
}
