import { exhaustive, type FailReason } from '../../policy/types.js';
import type { HangUp } from '../shared/session-protocol.js';

/**
 * Every reply twostep itself gives on the SMTP wire, in one place: code, enhanced status code
 * (RFC 2034/3463) and text. Wording follows Postfix's smtpd where Postfix has one, so clients
 * and their users see familiar replies.
 */
export const smtpReply = {
  greeting: (host: string) => `220 ${host} ESMTP twostep`,
  ok: '250 2.0.0 Ok',
  bye: '221 2.0.0 Bye',
  heloSyntax: '501 5.5.4 Syntax: HELO hostname',
  ehloSyntax: '501 5.5.4 Syntax: EHLO hostname',
  sendHeloFirst: '503 5.5.1 Error: send HELO/EHLO first',
  starttlsReady: '220 2.0.0 Ready to start TLS',
  starttlsSyntax: '501 5.5.4 Syntax: STARTTLS',
  tlsActive: '554 5.5.1 Error: TLS already active',
  starttlsUnavailable: '502 5.5.1 Error: command not implemented',
  authSyntax: '501 5.5.4 Syntax: AUTH mechanism',
  authMechanism: '504 5.5.4 Unsupported authentication mechanism',
  authAborted: '501 5.7.0 Authentication aborted',
  authOk: '235 2.7.0 Authentication successful',
  authRequired: '530 5.7.0 Authentication required',
  starttlsFirst: '530 5.7.0 Must issue a STARTTLS command first',
  noArguments: (verb: string) => `501 5.5.4 Syntax: ${verb}`,
  unknownCommand: '502 5.5.2 Error: command not recognized',
  badSyntax: '500 5.5.2 Error: bad syntax',
  lineTooLong: '500 5.5.2 Error: line too long',
  tooMuchInput: '421 4.7.0 Error: too much input before authentication',
  timeout: '421 4.4.2 Error: timeout exceeded',
  tooManyErrors: '421 4.7.0 Error: too many errors',
  tooManyAuthFailures: '421 4.7.0 Error: too many failed authentication attempts',
  backendLost: '421 4.4.2 Error: lost connection to the mail server, try again later',
  shuttingDown: '421 4.3.2 Service shutting down',
  tooManyFromIp: '421 4.7.0 Error: too many connections from your address',
  busy: '421 4.3.2 Error: server busy, try again later',
  // After AUTH (Postfix's words for the same refusals):
  insufficientAuthorization: '550 5.7.0 Error: insufficient authorization',
  alreadyAuthenticated: '503 5.5.1 Error: already authenticated',
  bdatSyntax: '521 5.5.4 Syntax: BDAT count [LAST]',
} as const;

/** One reply as lines: "250-a", "250-b", "250 c" (RFC 5321 §4.2.1). */
export function multiline(code: number, lines: readonly string[]): string[] {
  return lines.map((l, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${l}`);
}

/** The one renderer for a failed AUTH: every FailReason, checked exhaustively. */
export function renderFailure(reason: FailReason): string {
  switch (reason) {
    // One refusal for everyone: a two-step account's main password and any wrong password read
    // alike (and take as long: the policy's failure delay), so no one can list two-step users.
    case 'invalid-credentials':
    case 'app-code-required':
      return '535 5.7.8 Error: authentication failed. If this account uses two-step authentication, sign in with an application code.';
    case 'tls-required':
      // RFC 4954 §6: the mechanism needs an encrypted connection.
      return '538 5.7.11 Encryption required for requested authentication mechanism';
    case 'throttled':
      return '454 4.7.0 Too many failed logins, try again later';
    case 'backend-unavailable':
      return '454 4.7.0 Temporary authentication failure';
    case 'malformed':
      return '501 5.5.2 Error: invalid authentication data';
    default:
      return exhaustive(reason);
  }
}

/** The last words before twostep hangs up on a client that has not authenticated (Postfix's wording). */
export function lastWords(why: HangUp): string[] {
  switch (why) {
    case 'line-too-long':
      return [smtpReply.lineTooLong, smtpReply.tooManyErrors];
    case 'too-much-input':
      return [smtpReply.tooMuchInput];
    case 'timeout':
      return [smtpReply.timeout];
    case 'too-many-bad-commands':
      return [smtpReply.tooManyErrors];
    case 'too-many-auth-failures':
      return [smtpReply.tooManyAuthFailures];
    case 'shutdown':
      return [smtpReply.shuttingDown];
    case 'too-many-from-ip': // a 421 greeting (RFC 5321 §3.1): the client tries again later
      return [smtpReply.tooManyFromIp];
    case 'busy':
      return [smtpReply.busy];
    case 'fatal-syntax': // SMTP has no fatal syntax: every line stands alone
      return [];
    default:
      return exhaustive(why);
  }
}
