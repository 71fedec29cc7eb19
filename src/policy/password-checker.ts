import type { Secret } from '../core/secret.js';

/** The mail server's verdict on a user's own password. */
export type PasswordVerdict = 'ok' | 'rejected' | 'backend-unavailable';

/**
 * Checks a user's main password against the real mail server (the portal's implementation logs
 * in over IMAP); twostep never stores that password. Unit tests pass a fake.
 */
export interface PasswordChecker {
  check(user: string, password: Secret): Promise<PasswordVerdict>;
}
