import type { Secret } from '../../core/secret.js';

/** Credentials a front end parsed from a login command, before the policy sees them. */
export interface LoginCredentials {
  /** The SASL mechanism ('PLAIN', 'LOGIN'), or the command: 'LOGIN' (IMAP LOGIN), 'USER' (POP3 USER/PASS). */
  mechanism: 'PLAIN' | 'LOGIN' | 'USER';
  user: string;
  /** SASL PLAIN authorization identity, when non-empty. */
  authzid?: string;
  secret: Secret;
}

/** A user name fit for a log line (a malformed one may be huge or carry control characters). */
export function safeUser(user: string): string {
  return user.replace(/[\p{Cc}]/gu, '?').slice(0, 64);
}
