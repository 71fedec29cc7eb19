import type { SmtpBackendLogin } from '../../config/schema.js';
import type { FailReason } from '../../policy/types.js';
import type { SessionSurface } from '../shared/session-surface.js';
import type { SmtpSessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one SMTP client session: the
 * shared surface (shared/session-surface.ts) plus the SMTP state, the client's EHLO name, the
 * backend login mode and the refusals. The session (smtp-session.ts) owns the connection and
 * the state.
 */
export interface SmtpSessionContext extends SessionSurface {
  readonly backendLogin: SmtpBackendLogin;
  /** Deadline of the whole backend login (limits.backendLoginMs unless a test shortens it). */
  readonly backendLoginMs: number;
  /** The client's EHLO/HELO name, once it sent one (since the last STARTTLS). */
  readonly helo: string | undefined;
  state: SmtpSessionState;
  /** Sends a 5xx for a refused command and counts it towards limits.preAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed AUTH, logs it, and hangs up after too many. */
  fail(reason: FailReason, user: string | undefined, mechanism: string): undefined;
}
