import type { LoginCredentials } from '../../shared/login-credentials.js';
import { saslExchange, saslResponse } from '../../shared/sasl-exchange.js';
import { SessionOver } from '../../shared/session-over.js';
import { smtpReply } from '../responses.js';
import type { SmtpSessionContext } from '../session-context.js';
import { SmtpSessionState } from '../session-state.js';

/**
 * AUTH PLAIN | LOGIN [initial-response] (RFC 4954): after EHLO, before MAIL. "=" is an empty
 * initial response; "*" cancels (501). Valid in NotAuthenticated; the session is Authenticating
 * while the client's responses are read. Returns the credentials for the login step (mechanism
 * 'PLAIN' or 'LOGIN', as SMTP names them), or undefined when the command was already answered.
 */
export async function authCommand(ctx: SmtpSessionContext, arg: string): Promise<LoginCredentials | undefined> {
  const parts = arg.split(' ').filter((s) => s !== '');
  const mech = parts[0]?.toUpperCase();
  if (!mech || parts.length > 2) return ctx.badCommand(smtpReply.authSyntax);
  if (ctx.helo === undefined) return ctx.badCommand(smtpReply.sendHeloFirst);
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail('tls-required', undefined, mech === 'LOGIN' ? 'LOGIN' : 'PLAIN');
  if (mech !== 'PLAIN' && mech !== 'LOGIN') return ctx.badCommand(smtpReply.authMechanism);
  const ir = parts[1] === undefined ? undefined : parts[1] === '=' ? '' : parts[1];

  ctx.state = SmtpSessionState.Authenticating;
  const creds = await saslExchange(mech, ir, (challenge) => saslStep(ctx, challenge));
  if (ctx.closed()) throw new SessionOver();
  ctx.state = SmtpSessionState.NotAuthenticated;
  if (creds === 'aborted') return ctx.badCommand(smtpReply.authAborted);
  if (creds === 'malformed') return ctx.fail('malformed', undefined, mech);
  return { ...creds, mechanism: mech };
}

/** Sends "334 <challenge>" and reads one SASL response line; null when the client cancelled ("*"). */
async function saslStep(ctx: SmtpSessionContext, challenge: string): Promise<string | null> {
  ctx.send(`334 ${challenge}`);
  return saslResponse(await ctx.readResponseLine());
}
