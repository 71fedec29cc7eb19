import type { Secret } from '../../core/secret.js';

/** Credentials parsed from LOGIN or AUTHENTICATE, before the policy sees them. */
export interface LoginCredentials {
  /** 'LOGIN' (the IMAP command), 'PLAIN' or 'AUTH=LOGIN' (the SASL mechanisms). */
  mechanism: string;
  user: string;
  /** SASL PLAIN authorization identity, when non-empty. */
  authzid?: string;
  secret: Secret;
}
