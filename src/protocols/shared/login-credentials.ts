import type { Secret } from '../../core/secret.js';

/** Credentials a front end parsed from a login command, before the policy sees them. */
export interface LoginCredentials {
  /**
   * e.g. 'LOGIN' (IMAP LOGIN), 'USER' (POP3 USER/PASS), 'PLAIN' or 'AUTH=LOGIN' (the SASL
   * mechanisms); SMTP, which has no LOGIN command, names AUTH LOGIN 'LOGIN'.
   */
  mechanism: string;
  user: string;
  /** SASL PLAIN authorization identity, when non-empty. */
  authzid?: string;
  secret: Secret;
}
