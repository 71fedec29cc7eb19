import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { usernameProblem } from './username.js';

/**
 * Whether a login may be tried at all on this connection: never over plaintext unless [auth]
 * allow_plaintext. The front ends ask before reading credentials (IMAP LOGINDISABLED and
 * PRIVACYREQUIRED, POP3 without USER/SASL, SMTP 538 and no AUTH in EHLO); decide() asks again.
 */
export function plaintextLoginRefused(tls: boolean, allowPlaintext: boolean): boolean {
  return !tls && !allowPlaintext;
}

/** What a login attempt carries, as far as the gate looks at it. */
export interface GatedLogin {
  user: string;
  authzid?: string | undefined;
  secret: Secret;
  tls: boolean;
}

/**
 * The one rule deciding whether a login attempt may go on to be judged, used by the front ends
 * (before they ask the policy) and by the policy's decide(): 'tls-required' over plaintext
 * (above), 'malformed' for credentials no account can have — an empty, over-long or
 * control-character user name or authorization identity, an over-long secret or a NUL in it —
 * else null. Pure: no store, no clock.
 */
export function loginGate(c: GatedLogin, allowPlaintext: boolean): 'tls-required' | 'malformed' | null {
  if (plaintextLoginRefused(c.tls, allowPlaintext)) return 'tls-required';
  if (usernameProblem(c.user) !== null) return 'malformed';
  if (c.authzid !== undefined && c.authzid !== '' && usernameProblem(c.authzid) !== null) return 'malformed';
  if (c.secret.length > limits.secretChars || c.secret.reveal().includes('\0')) return 'malformed';
  return null;
}
