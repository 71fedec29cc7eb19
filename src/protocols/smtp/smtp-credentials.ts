import type { Secret } from '../../core/secret.js';

/** Credentials parsed from AUTH, before the policy sees them. */
export interface SmtpCredentials {
  /** 'PLAIN' or 'LOGIN' (the SASL mechanism). */
  mechanism: 'PLAIN' | 'LOGIN';
  user: string;
  /** SASL PLAIN authorization identity, when non-empty. */
  authzid?: string;
  secret: Secret;
}
