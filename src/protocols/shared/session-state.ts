/**
 * Where a client session is, one enum for IMAP, POP3 and SMTP; each command names the states in
 * which it is valid (its entry in the protocol's command table).
 */
export enum SessionState {
  /** Reading commands before login. */
  NotAuthenticated = 'not-authenticated',
  /** Inside a SASL exchange: lines are responses, not commands. */
  Authenticating = 'authenticating',
  /** Policy decision and backend login in progress: the client is not read. */
  LoggingIn = 'logging-in',
  /** Logged in at the backend: bytes are relayed (SMTP: read at command boundaries). */
  Proxying = 'proxying',
  Closed = 'closed',
}

/** The states of a command valid before login. */
export const BEFORE_LOGIN: readonly SessionState[] = [SessionState.NotAuthenticated];
/** The states of a command valid only after login (refused before it with the protocol's "not now"). */
export const AFTER_LOGIN: readonly SessionState[] = [SessionState.Proxying];
