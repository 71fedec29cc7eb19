/**
 * Every `event` name twostep writes to its log, in one list (docs/log-events.md says what each
 * means and which fields it carries). Names are dotted, `area.what`, lower case with hyphens
 * inside a part; the lifecycle lines that operators and fail2ban filters watch keep their one
 * word ('ready', 'listening', 'connect', 'login', 'bye', 'close', 'shutdown').
 *
 * The protocols, core and the composition root use these constants. The store's, the start-up
 * checks', the policy's and the portal's lines still spell theirs inline; they are listed here
 * (by area) so the list is complete, and move onto it when those files are next reworked (the
 * hyphenated ones then take the dotted name given here).
 */
export const LogEvent = {
  // process and listeners
  ready: 'ready',
  listening: 'listening',
  shutdown: 'shutdown',
  /** A front end stopped accepting and is ending its sessions (FrontEnd.shutdown). */
  stopping: 'stopping',
  auditPruneFailed: 'audit.prune-failed',
  /** The test suite's cheap argon2 parameters are on (crypto/hasher.ts argon2ParamsFrom). */
  argon2TestParameters: 'argon2.test-parameters',

  // one client session (protocols)
  connect: 'connect',
  login: 'login',
  bye: 'bye',
  close: 'close',
  earlyTalker: 'client.early-talker',
  httpRequest: 'client.http-request',
  starttlsInjection: 'client.starttls-injection',
  socketError: 'client.socket-error',
  tlsFailed: 'tls.failed',
  sessionError: 'session.error',
  sessionRevoked: 'session.revoked',
  /** SMTP after AUTH: a command twostep answers itself and never relays (XCLIENT, XFORWARD, STARTTLS, AUTH). */
  smtpCommandRefused: 'smtp.command-refused',
  backendError: 'backend.error',
  backendProbeFailed: 'backend.probe-failed',
  backendXclientRefused: 'backend.xclient-refused',
  policyError: 'policy.error',
  revocationCheckFailed: 'revocation.check-failed',
  auditWriteFailed: 'audit.write-failed',

  // start-up checks (still inline in src/checks and main.ts: 'backend-checked', 'backend-wait', 'tls-cert-expired')
  backendChecked: 'backend.checked',
  backendWait: 'backend.wait',
  tlsCertExpired: 'tls.cert-expired',

  // store (still inline in src/store)
  storeLocked: 'store.locked',
  storeUnlocked: 'store.unlocked',
  storeWriteFailed: 'store.write-failed',
  storeWriteDropped: 'store.write-dropped',
  storeWritesLost: 'store.writes-lost',

  // policy (still spelled inline in src/policy)
  loginOk: 'login.ok',
  loginFail: 'login.fail',
  loginThrottled: 'login.throttled',
  lastUsedWriteFailed: 'last-used.write-failed',
  auditPruned: 'audit.pruned',

  // portal (still spelled inline in src/portal)
  portalListening: 'portal.listening',
  portalError: 'portal.error',
  portalSessionSweepFailed: 'portal.session-sweep-failed',
  portalPasswordCheckFailed: 'portal.password-check-failed',
  portalCsrfRefused: 'portal.csrf-refused',
  portalStoreBusy: 'portal.store-busy',
} as const;

export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];
