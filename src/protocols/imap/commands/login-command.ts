import { Secret } from '../../../core/secret.js';
import { astring, type ImapCommand } from '../imap-command.js';
import type { LoginCredentials } from '../../shared/login-credentials.js';
import { badCommand, imapText } from '../responses.js';
import type { ImapSessionContext } from '../session-context.js';

/**
 * LOGIN user password (RFC 3501 6.2.3), valid in NotAuthenticated. Returns the credentials for
 * the login step, or undefined when the arguments were refused (already answered).
 */
export function loginCommand(ctx: ImapSessionContext, tag: string, cmd: ImapCommand): LoginCredentials | undefined {
  const user = astring(cmd.args[0]);
  const pass = astring(cmd.args[1]);
  if (cmd.args.length !== 2 || user === null || pass === null) {
    return ctx.badCommand(badCommand(tag, cmd.name, imapText.badInvalidArgs));
  }
  return { mechanism: 'LOGIN', user, secret: new Secret(pass) };
}
