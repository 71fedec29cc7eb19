/** Where a POP3 client session is (RFC 1939 AUTHORIZATION state, split); each command says where it is valid. */
export enum Pop3SessionState {
  /** Reading pre-auth commands; no user name given yet. */
  NotAuthenticated = 'not-authenticated',
  /** USER was accepted: PASS may follow (any other command keeps the name, as Dovecot does). */
  UserGiven = 'user-given',
  /** Inside an AUTH exchange: lines are SASL responses, not commands. */
  Authenticating = 'authenticating',
  /** Policy decision and backend login in progress: the client is not read. */
  LoggingIn = 'logging-in',
  /** Logged in upstream: bytes are copied, nothing is parsed. */
  Proxying = 'proxying',
  Closed = 'closed',
}
