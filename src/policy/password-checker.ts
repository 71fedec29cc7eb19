import type { Secret } from '../core/secret.js';

/** The mail server's verdict on a user's own password. */
export type PasswordVerdict = 'ok' | 'rejected' | 'backend-unavailable';

/**
 * Checks a user's main password against the real mail server (the portal's implementation logs
 * in over IMAP); twostep never stores that password. Unit tests pass a fake.
 */
export interface PasswordChecker {
  /** `clientIp`: the browser's address, for the mail server's log and its own failure penalty. */
  check(user: string, password: Secret, clientIp: string): Promise<PasswordVerdict>;
}
