import { saslExchange, saslResponse } from '../../shared/sasl-exchange.js';
import { SessionOver } from '../../shared/session-over.js';
import { astring, type ImapCommand } from '../imap-command.js';
import type { LoginCredentials } from '../../shared/login-credentials.js';
import { badCommand, imapText } from '../responses.js';
import type { ImapSessionContext } from '../session-context.js';
import { ImapSessionState } from '../session-state.js';

/**
 * AUTHENTICATE PLAIN | LOGIN [initial-response]: the SASL exchange (RFC 3501 6.2.2), with SASL-IR
 * (RFC 4959, "=" is an empty initial response) and "*" to cancel. Valid in NotAuthenticated;
 * the session is Authenticating while the client's responses are read.
 * Returns the credentials for the login step, or undefined when the command was already answered.
 */
export async function authenticateCommand(
  ctx: ImapSessionContext,
  tag: string,
  cmd: ImapCommand,
): Promise<LoginCredentials | undefined> {
  const mech = astring(cmd.args[0])?.toUpperCase();
  const irArg = cmd.args[1];
  if (!mech || cmd.args.length > 2 || (irArg && irArg.kind !== 'atom')) {
    return ctx.badCommand(badCommand(tag, 'AUTHENTICATE', imapText.badInvalidArgs));
  }
  if (mech !== 'PLAIN' && mech !== 'LOGIN') {
    ctx.send(`${tag} NO ${imapText.unsupportedMechanism}`);
    return undefined;
  }
  const mechanism = mech === 'PLAIN' ? 'PLAIN' : 'AUTH=LOGIN';
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail(tag, 'tls-required', undefined, mechanism);
  // RFC 4959: "=" is an empty initial response.
  const ir = irArg?.kind === 'atom' ? (irArg.value === '=' ? '' : irArg.value) : undefined;

  ctx.state = ImapSessionState.Authenticating;
  const creds = await saslExchange(mech, ir, (prompt) => saslStep(ctx, prompt));
  if (ctx.closed()) throw new SessionOver();
  ctx.state = ImapSessionState.NotAuthenticated;
  if (creds === 'aborted') return ctx.badCommand(`${tag} BAD ${imapText.authAborted}`);
  if (creds === 'malformed') return ctx.fail(tag, 'malformed', undefined, mechanism);
  return creds;
}

/** Sends "+ <prompt>" and reads one SASL response line; null when the client cancelled ("*"). */
async function saslStep(ctx: ImapSessionContext, prompt: string): Promise<string | null> {
  ctx.send(prompt ? `+ ${prompt}` : '+ ');
  const line = await ctx.readResponseLine();
  return saslResponse(line);
}
