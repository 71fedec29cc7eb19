import { exhaustive, type FailReason } from '../../policy/types.js';

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
  shuttingDown: 'Server shutting down.',
} as const;

/** "<tag> BAD Error in IMAP command X: <why>" (Dovecot's wording for a refused command). */
export function badCommand(tag: string, command: string | undefined, why: string): string {
  return command ? `${tag} BAD Error in IMAP command ${command}: ${why}` : `${tag} BAD ${why}`;
}

export function unknownCommand(tag: string, command: string): string {
  return badCommand(tag, command, 'Unknown command.');
}

export function notPermittedCommand(tag: string, command: string): string {
  return badCommand(tag, command, 'Command not permitted in this state.');
}

/** The one renderer for a failed login: every FailReason, checked exhaustively. */
export function renderFailure(tag: string, reason: FailReason): string {
  switch (reason) {
    case 'invalid-credentials':
      return `${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`;
    case 'app-code-required':
      return `${tag} NO [AUTHENTICATIONFAILED] Authentication failed. This account uses two-step authentication: sign in with an application code.`;
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
