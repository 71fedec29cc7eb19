import { exhaustive, type FailReason } from '../../policy/types.js';
import type { ParseError } from '../shared/parse-error.js';
import type { HangUp } from '../shared/session-protocol.js';

/**
 * Every line twostep itself says on the IMAP wire, in one place. Texts follow Dovecot's
 * imap-login where Dovecot has one, so clients and their users see familiar wording.
 */
export const imapText = {
  greeting: 'twostep ready.',
  capabilityOk: 'Pre-login capabilities listed, post-login capabilities have more.',
  noopOk: 'NOOP completed.',
  idOk: 'ID completed.',
  logoutBye: 'Logging out',
  logoutOk: 'Logout completed.',
  starttlsOk: 'Begin TLS negotiation now.',
  starttlsActive: 'TLS is already active.',
  loginOk: 'Logged in',
  authAborted: 'Authentication aborted by client.',
  unsupportedMechanism: 'Unsupported authentication mechanism.',
  badInvalidArgs: 'Invalid arguments.',
  badTag: 'Error in IMAP command received by server.',
  tooManyBad: 'Too many invalid IMAP commands.',
  tooManyAuthFailures: 'Too many failed authentication attempts.',
  tooLong: 'Too long command.',
  tooLongBad: 'Command line too long.',
  literalTooBig: 'Literal too big.',
  inactivity: 'Disconnected for inactivity.',
  tooMuchInput: 'Too much input before login.',
  invalidCommand: 'Invalid command.',
  unknownCommand: 'Unknown command.',
  notPermitted: 'Command not permitted in this state.',
  shuttingDown: 'Server shutting down.',
  tooManyFromIp: 'Too many connections from your address.',
  busy: '[UNAVAILABLE] Server busy, try again later.',
} as const;

/** "<tag> BAD Error in IMAP command X: <why>" (Dovecot's wording for a refused command). */
export function badCommand(tag: string, command: string | undefined, why: string): string {
  return command ? `${tag} BAD Error in IMAP command ${command}: ${why}` : `${tag} BAD ${why}`;
}

/** A line the parser refused: tagged when the tag was readable, with the parser's words (Dovecot style). */
export function syntaxRefusal(err: ParseError): string {
  if (err.tag === undefined) return `* BAD ${imapText.badTag}`;
  const why = err.reason === 'literal-too-big' ? imapText.literalTooBig : `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`;
  return badCommand(err.tag, err.command, why);
}

/** The last words before twostep hangs up on a client that has not logged in (Dovecot's wording). */
export function lastWords(why: HangUp, err?: ParseError): string[] {
  switch (why) {
    case 'line-too-long':
      return [`* BAD ${imapText.tooLongBad}`, `* BYE ${imapText.tooLong}`];
    case 'too-much-input':
      return [`* BYE ${imapText.tooMuchInput}`];
    case 'fatal-syntax':
      return [`* BAD ${err?.reason === 'literal-too-big' ? imapText.literalTooBig : imapText.invalidCommand}`, `* BYE ${imapText.tooLong}`];
    case 'timeout':
      return [`* BYE ${imapText.inactivity}`];
    case 'too-many-bad-commands':
      return [`* BYE ${imapText.tooManyBad}`];
    case 'too-many-auth-failures':
      return [`* BYE ${imapText.tooManyAuthFailures}`];
    case 'shutdown':
      return [`* BYE ${imapText.shuttingDown}`];
    case 'too-many-from-ip': // a BYE greeting (RFC 9051 §7.1.5): the server refuses the connection
      return [`* BYE ${imapText.tooManyFromIp}`];
    case 'busy':
      return [`* BYE ${imapText.busy}`];
    default:
      return exhaustive(why);
  }
}

/** The one renderer for a failed login: every FailReason, checked exhaustively. */
export function renderFailure(tag: string, reason: FailReason): string {
  switch (reason) {
    // One refusal for everyone: a two-step account's main password and any wrong password read
    // alike (and take as long: the policy's failure delay), so no one can list two-step users.
    case 'invalid-credentials':
    case 'app-code-required':
      return `${tag} NO [AUTHENTICATIONFAILED] Authentication failed. If this account uses two-step authentication, sign in with an application code.`;
    case 'tls-required':
      return `${tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.`;
    case 'throttled':
      return `${tag} NO [UNAVAILABLE] Too many failed logins, try again later.`;
    case 'backend-unavailable':
      return `${tag} NO [UNAVAILABLE] Temporary authentication failure.`;
    case 'malformed':
      return `${tag} BAD Invalid authentication data.`;
    default:
      return exhaustive(reason);
  }
}
