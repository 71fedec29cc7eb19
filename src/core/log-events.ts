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
  /** SIGHUP: the config and certificates were read again; what changed. */
  reload: 'reload',
  /** SIGHUP: the new config (or a certificate) is unusable; the old one keeps serving. */
  reloadFailed: 'reload.failed',
  /** SIGHUP: keys that changed but apply only at the next start. */
  reloadRestartNeeded: 'reload.restart-needed',
  /** A second SIGTERM / SIGINT, or the grace ran out before everything closed: exit now. */
  shutdownForced: 'shutdown.forced',
  /** The connection limits in effect (start, reload). */
  limitsSet: 'limits.set',
  /** A configured limit does not fit the open-file limit and was lowered. */
  limitsLowered: 'limits.lowered',
  /** max_connections are open: new clients wait for a place (rate-limited). */
  connectionsFull: 'connections.full',
  /** A client was refused before its greeting: per-ip or busy (rate-limited). */
  connectionRefused: 'connection.refused',
  /** accept() or a backend connect failed with EMFILE / ENFILE (rate-limited). */
  outOfFiles: 'files.exhausted',
  metricsListening: 'metrics.listening',
  /** The metrics listener failed to answer a request (or its socket failed). */
  metricsError: 'metrics.error',
  /** A listening socket failed after it was bound (not EMFILE/ENFILE: those are files.exhausted). */
  listenerError: 'listener.error',

  // [server] workers (src/server/cluster): the supervisor's lines carry role: "supervisor", a worker's `worker` its number
  /** A worker listens on everything (the supervisor's `ready` follows once all do). */
  workerReady: 'worker.ready',
  /** The supervisor forked a worker (at start, or to replace one that died). */
  workerStarted: 'worker.started',
  /** A worker died (or stopped) outside a shutdown: its sessions are gone; it is replaced after a pause. */
  workerExited: 'worker.exited',
  /** A worker's start failed (at serve's start: serve fails with its error). */
  workerFailed: 'worker.failed',
  /** A worker's graceful shutdown ended, with its own counts (the supervisor's `shutdown` line adds them up). */
  workerStopped: 'worker.stopped',
  /** The supervisor got no answer from a worker (metrics, readiness): left out of that answer. */
  workerSilent: 'worker.silent',
  /** A write to a worker's channel failed (it is dying: its exit follows as worker.exited). */
  workerChannelError: 'worker.channel-error',

  // one client session (protocols)
  connect: 'connect',
  login: 'login',
  bye: 'bye',
  close: 'close',
  earlyTalker: 'client.early-talker',
  httpRequest: 'client.http-request',
  starttlsInjection: 'client.starttls-injection',
  /** A balancer's connection ([server] proxy_protocol_from) without a valid PROXY header: closed. */
  proxyRefused: 'proxy.refused',
  /** A PROXY header from an address not in proxy_protocol_from: closed. */
  proxyUntrusted: 'proxy.untrusted',
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

  // start-up checks (still inline in src/checks: 'backend-checked', 'backend-wait')
  backendChecked: 'backend.checked',
  backendWait: 'backend.wait',
  tlsCertExpired: 'tls.cert-expired',

  // store (still inline in src/store)
  storeLocked: 'store.locked',
  storeUnlocked: 'store.unlocked',
  storeWriteFailed: 'store.write-failed',
  storeWriteDropped: 'store.write-dropped',
  storeWritesLost: 'store.writes-lost',
  storeConnectionLost: 'store.connection-lost',
  storeListenLost: 'store.listen-lost',
  storeListenBack: 'store.listen-back',
  storeRevocationListenerFailed: 'store.revocation-listener-failed',

  // policy (still spelled inline in src/policy)
  loginOk: 'login.ok',
  loginFail: 'login.fail',
  loginThrottled: 'login.throttled',
  lastUsedWriteFailed: 'last-used.write-failed',
  auditPruned: 'audit.pruned',
  /** A new user of a domain with a policy could not be recorded after their sign-in (effective-policy.ts). */
  accountNoteFailed: 'account.note-failed',

  // mail notices to users (src/notify)
  /** A notice the mail server took. */
  noticeSent: 'notice.sent',
  /** A notice not sent this time (server down, 4xx): due again later. */
  noticeRetry: 'notice.retry',
  /** A notice given up (5xx, no address, too many tries). */
  noticeFailed: 'notice.failed',
  /** A round of the sender failed (the database): the next one tries again. */
  noticeError: 'notice.error',
  /** An Apple profile could not be signed (openssl): sent unsigned. */
  profileSignFailed: 'portal.profile-sign-failed',

  // portal (still spelled inline in src/portal)
  portalListening: 'portal.listening',
  portalError: 'portal.error',
  portalSessionSweepFailed: 'portal.session-sweep-failed',
  portalPasswordCheckFailed: 'portal.password-check-failed',
  portalCsrfRefused: 'portal.csrf-refused',
  portalStoreBusy: 'portal.store-busy',
} as const;

export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];
