export interface PreAuthCapabilityInput {
  /** The connection is already TLS (implicit or after STLS). */
  tls: boolean;
  /** STLS can still be offered (plaintext listener, not yet upgraded). */
  starttls: boolean;
  /** No login may be tried here (policy/login-gate.ts: plaintext without allow_plaintext). */
  loginRefused: boolean;
}

/** The SASL mechanisms twostep accepts from clients (RFC 5034). */
export const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

/**
 * Pre-login CAPA lines (RFC 2449), Dovecot style: what Dovecot's POP3 offers after login, plus
 * STLS, USER and SASL. Before TLS (without allow_plaintext) USER and SASL are left out, as
 * Dovecot does with disable_plaintext_auth, so clients do STLS first.
 */
export function preAuthCapabilities(c: PreAuthCapabilityInput): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'];
  if (c.starttls && !c.tls) caps.push('STLS');
  if (!c.loginRefused) caps.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
  return caps;
}
