import type { LoginCredentials } from './login-credentials.js';
import { SaslLogin } from './sasl-login.js';
import { decodeSaslPlain } from './sasl-plain.js';

/**
 * Sends one server challenge (base64, '' for an empty one) and returns the client's response
 * line; null when the client cancelled with "*".
 */
export type SaslStep = (prompt: string) => Promise<string | null>;

/**
 * The client side of a PLAIN or LOGIN exchange, whatever protocol carries it (IMAP AUTHENTICATE,
 * POP3 AUTH, SMTP AUTH): the initial response when the client sent one, else a challenge per
 * step. Returns the credentials, 'malformed' (bad base64, UTF-8 or PLAIN layout) or 'aborted'.
 */
export async function saslExchange(
  mech: 'PLAIN' | 'LOGIN',
  ir: string | undefined,
  step: SaslStep,
): Promise<LoginCredentials | 'malformed' | 'aborted'> {
  if (mech === 'PLAIN') {
    const response = ir ?? (await step(''));
    if (response === null) return 'aborted';
    const plain = decodeSaslPlain(response);
    return plain.ok ? { mechanism: 'PLAIN', user: plain.authcid, authzid: plain.authzid || undefined, secret: plain.password } : 'malformed';
  }
  const sasl = new SaslLogin();
  let response = ir ?? (await step(sasl.prompt()));
  for (;;) {
    if (response === null) return 'aborted';
    const fed = sasl.feed(response);
    if (!fed.ok) return 'malformed';
    if (fed.done) return { mechanism: 'LOGIN', user: fed.user, secret: fed.password };
    response = await step(fed.prompt);
  }
}

/** A client's SASL response line as text; null for the "*" cancel (RFC 4954, 5034, 3501). */
export function saslResponse(line: Buffer): string | null {
  const text = line.toString('latin1').trim();
  return text === '*' ? null : text;
}
