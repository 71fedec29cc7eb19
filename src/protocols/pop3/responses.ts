import { exhaustive, type FailReason } from '../../policy/types.js';
import type { HangUp } from '../shared/session-protocol.js';

/**
 * Every line twostep itself says on the POP3 wire, in one place. Texts follow Dovecot's
 * pop3-login where Dovecot has one; response codes per RFC 2449 and RFC 3206.
 */
export const pop3Text = {
  greeting: 'twostep ready.',
  capaOk: 'Capability list follows',
  authListOk: 'Supported mechanisms follow',
  stlsOk: 'Begin TLS negotiation now.',
  tlsActive: 'TLS is already active.',
  userOk: 'User name accepted, password please.',
  noUser: 'No username given.',
  quitOk: 'Logging out.',
  loginOk: 'Logged in.',
  authAborted: 'Authentication aborted by client.',
  unsupportedMechanism: 'Unsupported authentication mechanism.',
  unknownCommand: 'Unknown command.',
  badArgs: 'Invalid arguments.',
  badEncoding: 'Invalid characters in command.',
  tooManyBad: 'Too many invalid commands.',
  tooLong: 'Input line too long.',
  tooMuchInput: 'Too much input before login.',
  inactivity: 'Disconnected for inactivity.',
  shuttingDown: '[SYS/TEMP] Server shutting down.',
  tooManyFromIp: '[SYS/TEMP] Too many connections from your address.',
  busy: '[SYS/TEMP] Server busy, try again later.',
} as const;

export function ok(text = ''): string {
  return text ? `+OK ${text}` : '+OK';
}

export function err(text: string): string {
  return `-ERR ${text}`;
}

/** The one renderer for a failed login: every FailReason, checked exhaustively ([AUTH], [SYS/TEMP]: RFC 3206). */
export function renderFailure(reason: FailReason): string {
  switch (reason) {
    // One refusal for everyone: a two-step account's main password and any wrong password read
    // alike (and take as long: the policy's failure delay), so no one can list two-step users.
    case 'invalid-credentials':
    case 'app-code-required':
      return '-ERR [AUTH] Authentication failed. If this account uses two-step authentication, sign in with an application code.';
    case 'tls-required':
      return '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.';
    case 'throttled':
      return '-ERR [SYS/TEMP] Too many failed logins, try again later.';
    case 'backend-unavailable':
      return '-ERR [SYS/TEMP] Temporary authentication failure.';
    case 'malformed':
      return '-ERR Invalid authentication data.';
    default:
      return exhaustive(reason);
  }
}

/**
 * The last words before twostep hangs up on a client that has not logged in. POP3 has no
 * unsolicited goodbye, so the last reply is the refusal itself; after too many failed logins the
 * refusal already said it all.
 */
export function lastWords(why: HangUp): string[] {
  switch (why) {
    case 'line-too-long':
      return [err(pop3Text.tooLong)];
    case 'too-much-input':
      return [err(pop3Text.tooMuchInput)];
    case 'timeout':
      return [err(pop3Text.inactivity)];
    case 'too-many-bad-commands':
      return [err(pop3Text.tooManyBad)];
    case 'shutdown':
      return [err(pop3Text.shuttingDown)];
    case 'too-many-from-ip': // a -ERR greeting: the client tries again later (RFC 2449 [SYS/TEMP])
      return [err(pop3Text.tooManyFromIp)];
    case 'busy':
      return [err(pop3Text.busy)];
    case 'too-many-auth-failures':
    case 'fatal-syntax': // POP3 has no fatal syntax: every line stands alone
      return [];
    default:
      return exhaustive(why);
  }
}
