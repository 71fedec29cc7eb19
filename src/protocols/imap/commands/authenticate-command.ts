import { decodeSaslPlain } from '../../shared/sasl-plain.js';
import { SaslLogin } from '../../shared/sasl-login.js';
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
  let creds: LoginCredentials | 'malformed' | 'aborted';
  if (mech === 'PLAIN') {
    const response = ir ?? (await saslStep(ctx, ''));
    if (response === null) creds = 'aborted';
    else {
      const plain = decodeSaslPlain(response);
      creds = plain.ok
        ? { mechanism: 'PLAIN', user: plain.authcid, authzid: plain.authzid || undefined, secret: plain.password }
        : 'malformed';
    }
  } else {
    creds = await saslLogin(ctx, ir);
  }
  if (ctx.closed()) throw new SessionOver();
  ctx.state = ImapSessionState.NotAuthenticated;
  if (creds === 'aborted') return ctx.badCommand(`${tag} BAD ${imapText.authAborted}`);
  if (creds === 'malformed') return ctx.fail(tag, 'malformed', undefined, mechanism);
  return creds;
}

async function saslLogin(ctx: ImapSessionContext, ir: string | undefined): Promise<LoginCredentials | 'malformed' | 'aborted'> {
  const sasl = new SaslLogin();
  let response = ir ?? (await saslStep(ctx, sasl.prompt()));
  for (;;) {
    if (response === null) return 'aborted';
    const step = sasl.feed(response);
    if (!step.ok) return 'malformed';
    if (step.done) return { mechanism: 'AUTH=LOGIN', user: step.user, secret: step.password };
    response = await saslStep(ctx, step.prompt);
  }
}

/** Sends "+ <prompt>" and reads one SASL response line; null when the client cancelled ("*"). */
async function saslStep(ctx: ImapSessionContext, prompt: string): Promise<string | null> {
  ctx.send(prompt ? `+ ${prompt}` : '+ ');
  const line = await ctx.readResponseLine();
  const text = line.toString('latin1').trim();
  return text === '*' ? null : text;
}
