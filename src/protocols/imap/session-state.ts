/** Where an IMAP client session is; each command handler states in which states it is valid. */
export enum ImapSessionState {
  /** Reading pre-auth commands. */
  NotAuthenticated = 'not-authenticated',
  /** Inside an AUTHENTICATE exchange: lines are SASL responses, not commands. */
  Authenticating = 'authenticating',
  /** Policy decision and backend login in progress: the client is not read. */
  LoggingIn = 'logging-in',
  /** Logged in upstream: bytes are copied, nothing is parsed. */
  Proxying = 'proxying',
  Closed = 'closed',
}
