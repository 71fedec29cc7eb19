import type { FailReason } from '../../policy/types.js';
import type { SessionSurface } from '../shared/session-surface.js';
import type { Pop3SessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one POP3 client session: the
 * shared surface (shared/session-surface.ts) plus the POP3 state and its refusals. The session
 * (pop3-session.ts) owns the connection and the state.
 */
export interface Pop3SessionContext extends SessionSurface {
  state: Pop3SessionState;
  /** Sends an -ERR reply and counts it towards limits.pop3PreAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed login, logs it, and hangs up after too many. */
  fail(reason: FailReason, user: string | undefined, mechanism: string): undefined;
}
