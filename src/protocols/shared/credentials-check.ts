import { limits } from '../../core/limits.js';
import type { LoginCredentials } from './login-credentials.js';

const CONTROL = /[\p{Cc}]/u;

/**
 * True when credentials must not reach the policy: an empty, over-long or control-character user
 * name or authorization identity, an over-long secret, or a NUL in the secret.
 */
export function credentialsMalformed(c: LoginCredentials): boolean {
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
