export interface PreAuthCapabilityInput {
  /** The connection is already TLS (implicit or after STARTTLS). */
  tls: boolean;
  /** STARTTLS can still be offered (plaintext listener, not yet upgraded). */
  starttls: boolean;
  /** No login may be tried here (policy/login-gate.ts: plaintext without allow_plaintext). */
  loginRefused: boolean;
}

/**
 * Pre-login capabilities, Dovecot style. Before TLS (and without allow_plaintext) no AUTH= is
 * offered and LOGINDISABLED tells clients to do STARTTLS first (RFC 3501 §6.2.3).
 */
export function preAuthCapabilities(c: PreAuthCapabilityInput): string {
  const caps = ['IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'LITERAL+'];
  if (c.starttls && !c.tls) caps.push('STARTTLS');
  if (!c.loginRefused) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
  else caps.push('LOGINDISABLED');
  return caps.join(' ');
}
