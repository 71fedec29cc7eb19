import { limits } from '../../core/limits.js';
import type { Secret } from '../../core/secret.js';

const CONTROL = /[\p{Cc}]/u;

/**
 * True when credentials a client sent cannot be a login: empty or over-long user name, control
 * characters in a name, an over-long secret or one with NUL. Checked before the policy runs.
 */
export function loginInputMalformed(c: { user: string; authzid?: string; secret: Secret }): boolean {
  return (
    c.user === '' ||
    c.user.length > limits.userNameChars ||
    CONTROL.test(c.user) ||
    c.secret.length > limits.secretChars ||
    c.secret.reveal().includes('\0') ||
    (c.authzid !== undefined && (c.authzid.length > limits.userNameChars || CONTROL.test(c.authzid)))
  );
}

/** A user name fit for a log line (a malformed one may be huge or carry control characters). */
export function safeUser(user: string): string {
  return user.replace(/[\p{Cc}]/gu, '?').slice(0, 64);
}
