/** Where an SMTP client session is; each command handler states in which states it is valid. */
export enum SmtpSessionState {
  /** Reading pre-AUTH commands (EHLO, STARTTLS, AUTH, RSET, NOOP, QUIT). */
  NotAuthenticated = 'not-authenticated',
  /** Inside an AUTH exchange: lines are SASL responses (334 continuations), not commands. */
  Authenticating = 'authenticating',
  /** Policy decision and backend login in progress: the client is not read. */
  LoggingIn = 'logging-in',
  /** Logged in at the backend: bytes are copied, nothing is parsed (MAIL, RCPT, DATA, BDAT...). */
  Proxying = 'proxying',
  Closed = 'closed',
}
