import { Secret } from '../../../core/secret.js';
import type { LoginCredentials } from '../../shared/login-credentials.js';
import { err, ok, pop3Text } from '../responses.js';
import type { Pop3SessionContext } from '../session-context.js';
import { Pop3SessionState } from '../session-state.js';

/**
 * USER name (RFC 1939 §7), valid in NotAuthenticated and UserGiven (a second USER replaces the
 * name). Refused before TLS unless allow_plaintext, like Dovecot. Returns the name to keep.
 */
export function userCommand(ctx: Pop3SessionContext, args: string): string | undefined {
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail('tls-required', undefined, 'USER');
  if (args === '') return ctx.badCommand(err(pop3Text.badArgs));
  ctx.state = Pop3SessionState.UserGiven;
  ctx.send(ok(pop3Text.userOk));
  return args;
}

/**
 * PASS secret (RFC 1939 §7), valid in UserGiven only; the rest of the line is the secret (spaces
 * included). Returns the credentials for the login step, or undefined when already answered.
 */
export function passCommand(ctx: Pop3SessionContext, user: string | undefined, args: string): LoginCredentials | undefined {
  if (ctx.state !== Pop3SessionState.UserGiven || user === undefined) return ctx.badCommand(err(pop3Text.noUser));
  ctx.state = Pop3SessionState.NotAuthenticated;
  return { mechanism: 'USER', user, secret: new Secret(args) };
}
