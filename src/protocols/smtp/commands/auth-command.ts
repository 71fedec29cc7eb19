import { decodeSaslPlain } from '../../shared/sasl-plain.js';
import { SaslLogin } from '../../shared/sasl-login.js';
import { smtpReply } from '../responses.js';
import type { SmtpSessionContext } from '../session-context.js';
import { SessionOver } from '../../shared/session-over.js';
import { SmtpSessionState } from '../session-state.js';
import type { SmtpCredentials } from '../smtp-credentials.js';

/**
 * AUTH PLAIN | LOGIN [initial-response] (RFC 4954): after EHLO, before MAIL. "=" is an empty
 * initial response; "*" cancels (501). Valid in NotAuthenticated; the session is Authenticating
 * while the client's responses are read. Returns the credentials for the login step, or
 * undefined when the command was already answered.
 */
export async function authCommand(ctx: SmtpSessionContext, arg: string): Promise<SmtpCredentials | undefined> {
  const parts = arg.split(' ').filter((s) => s !== '');
  const mech = parts[0]?.toUpperCase();
  if (!mech || parts.length > 2) return ctx.badCommand(smtpReply.authSyntax);
  if (ctx.helo === undefined) return ctx.badCommand(smtpReply.sendHeloFirst);
  if (!ctx.tls && !ctx.allowPlaintext) return ctx.fail('tls-required', undefined, mech === 'LOGIN' ? 'LOGIN' : 'PLAIN');
  if (mech !== 'PLAIN' && mech !== 'LOGIN') return ctx.badCommand(smtpReply.authMechanism);
  const ir = parts[1] === undefined ? undefined : parts[1] === '=' ? '' : parts[1];

  ctx.state = SmtpSessionState.Authenticating;
  let creds: SmtpCredentials | 'malformed' | 'aborted';
  if (mech === 'PLAIN') {
    const response = ir ?? (await saslStep(ctx, ''));
    if (response === null) creds = 'aborted';
    else {
      const plain = decodeSaslPlain(response);
      creds = plain.ok ? { mechanism: 'PLAIN', user: plain.authcid, authzid: plain.authzid || undefined, secret: plain.password } : 'malformed';
    }
  } else {
    creds = await saslLogin(ctx, ir);
  }
  if (ctx.closed()) throw new SessionOver();
  ctx.state = SmtpSessionState.NotAuthenticated;
  if (creds === 'aborted') return ctx.badCommand(smtpReply.authAborted);
  if (creds === 'malformed') return ctx.fail('malformed', undefined, mech);
  return creds;
}

async function saslLogin(ctx: SmtpSessionContext, ir: string | undefined): Promise<SmtpCredentials | 'malformed' | 'aborted'> {
  const sasl = new SaslLogin();
  let response = ir ?? (await saslStep(ctx, sasl.prompt()));
  for (;;) {
    if (response === null) return 'aborted';
    const step = sasl.feed(response);
    if (!step.ok) return 'malformed';
    if (step.done) return { mechanism: 'LOGIN', user: step.user, secret: step.password };
    response = await saslStep(ctx, step.prompt);
  }
}

/** Sends "334 <challenge>" and reads one SASL response line; null when the client cancelled ("*"). */
async function saslStep(ctx: SmtpSessionContext, challenge: string): Promise<string | null> {
  ctx.send(`334 ${challenge}`);
  const line = await ctx.readResponseLine();
  const text = line.toString('latin1').trim();
  return text === '*' ? null : text;
}
