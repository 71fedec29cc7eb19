import { saslExchange, saslResponse } from '../../shared/sasl-exchange.js';
import type { LoginCredentials } from '../../shared/login-credentials.js';
import { SessionOver } from '../../shared/session-over.js';
import { SASL_MECHANISMS } from '../capabilities.js';
import { err, ok, pop3Text } from '../responses.js';
import type { Pop3SessionContext } from '../session-context.js';
import { Pop3SessionState } from '../session-state.js';

/**
 * AUTH [mechanism [initial-response]] (RFC 5034): without arguments, the mechanism list (the
 * pre-RFC form clients still send); with PLAIN or LOGIN, the SASL exchange with "+ " continuations,
 * "=" as an empty initial response and "*" to cancel. Valid in NotAuthenticated and UserGiven;
 * the session is Authenticating while the client's responses are read. Returns the credentials
 * for the login step, or undefined when the command was already answered.
 */
export async function authCommand(ctx: Pop3SessionContext, args: string): Promise<LoginCredentials | undefined> {
  const parts = args === '' ? [] : args.split(' ');
  if (parts.length === 0) {
    ctx.send(ok(pop3Text.authListOk));
    if (ctx.tls || ctx.allowPlaintext) for (const m of SASL_MECHANISMS) ctx.send(m);
    ctx.send('.');
    return undefined;
  }
  if (parts.length > 2 || parts.some((p) => p === '')) return ctx.badCommand(err(pop3Text.badArgs));
  const mech = (parts[0] as string).toUpperCase();
  if (mech !== 'PLAIN' && mech !== 'LOGIN') return ctx.badCommand(err(pop3Text.unsupportedMechanism));
  const mechanism = mech === 'PLAIN' ? 'PLAIN' : 'AUTH=LOGIN';
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail('tls-required', undefined, mechanism);
  const irArg = parts[1];
  const ir = irArg === undefined ? undefined : irArg === '=' ? '' : irArg;

  const before = ctx.state;
  ctx.state = Pop3SessionState.Authenticating;
  const creds = await saslExchange(mech, ir, (prompt) => saslStep(ctx, prompt));
  if (ctx.closed()) throw new SessionOver();
  ctx.state = before;
  if (creds === 'aborted') return ctx.badCommand(err(pop3Text.authAborted));
  if (creds === 'malformed') return ctx.fail('malformed', undefined, mechanism);
  ctx.state = Pop3SessionState.NotAuthenticated;
  return creds;
}

/** Sends "+ <prompt>" and reads one SASL response line; null when the client cancelled ("*"). */
async function saslStep(ctx: Pop3SessionContext, prompt: string): Promise<string | null> {
  ctx.send(prompt ? `+ ${prompt}` : '+ ');
  const line = await ctx.readResponseLine();
  return saslResponse(line);
}
