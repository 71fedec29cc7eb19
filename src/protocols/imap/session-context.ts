import type { FailReason } from '../../policy/types.js';
import type { SessionSurface } from '../shared/session-surface.js';
import type { ImapSessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one IMAP client session: the
 * shared surface (shared/session-surface.ts) plus the IMAP state, the client's ID name and the
 * tagged refusals. The session (imap-session.ts) owns the connection and the state.
 */
export interface ImapSessionContext extends SessionSurface {
  /** From IMAP ID, when the client sent one. */
  readonly clientName: string | undefined;
  state: ImapSessionState;
  /** Sends a BAD reply and counts it towards limits.preAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed login, logs it, and hangs up after too many. */
  fail(tag: string, reason: FailReason, user: string | undefined, mechanism: string): undefined;
}
