export { consoleLimits } from './console-limits.js'; // the admin console's caps, in a file of their own

/**
 * Every byte cap and deadline of the process, in one place, each with the reason for its value.
 * Protocol code imports these; nothing else hard-codes a size or a timeout.
 */
export const limits = {
  /** Longest command line before login. RFC 7162 advises servers to accept at least 8192 octets. */
  preAuthLineBytes: 8192,
  /** Largest literal accepted before login ({n}); a LOGIN password or SASL blob is far smaller. */
  preAuthLiteralBytes: 8192,
  /** Total bytes a client may send before login; a real client sends a few hundred. */
  preAuthTotalBytes: 64 * 1024,
  /** Unknown or malformed commands before login before we hang up (Dovecot: mail_max_bad_commands 20; nginx closes sooner). */
  preAuthMaxBadCommands: 10,
  /**
   * Longest POP3 line before login. RFC 2449 caps commands at 255 octets, but RFC 5034 lifts
   * that for AUTH and its responses: a SASL PLAIN blob for a 255-character user name and a
   * 1024-character secret is several kB of base64. Same cap as IMAP, so both read alike.
   */
  pop3PreAuthLineBytes: 8192,
  /**
   * Unknown or refused POP3 commands before login before we hang up. POP3 clients send a fixed
   * handful (CAPA, STLS, USER, PASS, AUTH, QUIT); more errors than this are a scanner or a
   * client speaking another protocol. Same as IMAP's preAuthMaxBadCommands.
   */
  pop3PreAuthMaxBadCommands: 10,
  /** Longest POP3 command keyword we parse (RFC 1939: 3-4 characters; extensions stay short). */
  pop3CommandNameChars: 16,
  /** Failed logins on one connection before we hang up (Dovecot closes after 3 by default). */
  preAuthMaxAuthFailures: 3,
  /** Time from accept to a successful login (Dovecot's login_timeout-ish: clients log in at once). */
  preAuthTimeoutMs: 60_000,
  /** Idle time between commands before login. */
  preAuthIdleMs: 30_000,
  /** TLS handshake (implicit TLS or after STARTTLS). */
  tlsHandshakeMs: 15_000,
  /** Connect to the backend, including its greeting. */
  backendConnectMs: 10_000,
  /**
   * Most backend connections [imap] backend_spares may keep open ahead of logins: each is one
   * idle Dovecot login process.
   */
  upstreamSparesMax: 32,
  /**
   * A spare older than this is closed, and replaced only at the next login: Dovecot drops
   * pre-login connections idle for 3 minutes, and a quiet server should not keep cycling them.
   */
  upstreamSpareMaxAgeMs: 60_000,
  /** After a failed spare connect, wait this long before the next (the backend may be down). */
  upstreamSpareRetryMs: 5_000,
  /** Whole backend login exchange (ID, STARTTLS, AUTHENTICATE). */
  backendLoginMs: 20_000,
  /** Largest single backend response line during the login exchange. */
  backendLineBytes: 64 * 1024,
  /**
   * Longest SMTP command line before AUTH. RFC 5321 §4.5.3.1.4 sets 512 octets for a command
   * line, but an AUTH line with a SASL initial response (RFC 4954 §4) may be longer: 8192 as for IMAP.
   */
  smtpLineBytes: 8192,
  /** Most lines in one backend SMTP reply (Postfix's EHLO has about 15). */
  smtpReplyLines: 100,
  /**
   * How long the backend's EHLO extensions, learnt by a probe connection, are reused before the
   * next EHLO probes again: one short Postfix connection a minute at most, not one per client.
   */
  smtpExtensionsTtlMs: 60_000,
  /**
   * Deadline of that probe (connect, greeting, EHLO, STARTTLS). A healthy Postfix answers in
   * milliseconds; a client's EHLO waits for the probe, and a stalled backend must not hold it long.
   */
  smtpProbeMs: 5_000,
  /** After a failed probe, how long clients are told only twostep's own extensions before retrying. */
  smtpExtensionsRetryMs: 5_000,
  /**
   * Idle time after AUTH. RFC 5321 §4.5.3.2 asks a server to wait 5 minutes for a command and
   * 10 minutes for the end of DATA; Postfix's smtpd_timeout is 300 s. Past 10 minutes of silence
   * in both directions the session is dead.
   */
  smtpProxyIdleMs: 10 * 60_000,
  /** Idle time after login; IMAP IDLE clients refresh every 29 minutes (RFC 3501 autologout ≥ 30 min). */
  proxyIdleMs: 31 * 60_000,
  /** Longest IMAP ID value kept as the client name (Dovecot truncates ID values too). */
  clientNameChars: 64,
  /** Longest user name accepted (Dovecot's default auth limit is 255ish). */
  userNameChars: 255,
  /** Longest password or code accepted before hashing (argon2 on megabytes is a DoS). */
  secretChars: 1024,
  /** Deepest parenthesized list before login; only ID sends a list, one level deep. */
  preAuthListDepth: 4,
  /**
   * Backend refusal times kept to pad every refusal to the server's usual time (refusal-timing.ts),
   * and the longest such padding (a server that got slow must not hold every refusal for long).
   */
  refusalTimingSamples: 100,
  refusalTimingMaxMs: 10_000,
  /** Time the policy may take for one decision (argon2 + SQLite); past it the client hears UNAVAILABLE. */
  authDecisionMs: 15_000,
  /**
   * Longest a login attempt awaiting its verdict (argon2, or the backend judging a passthrough
   * password) counts against the throttles when no verdict is reported (the client left first):
   * the policy's decision plus the backend login, with room.
   */
  pendingAttemptMs: 40_000,
  /**
   * How long a reservation of a guessing bound waits for another process's write lock before
   * this process goes on alone (attempt-guard.ts): a login must not wait behind a backup.
   */
  guardBusyMs: 50,
  /**
   * Once a write found the database locked that long, later writes wait at most this (until one
   * gets through): long enough for another process's own short transaction (another worker's
   * login), short enough that a backup holding the lock for minutes adds nothing a client notices.
   */
  guardLockedTryMs: 5,
  /** While the database is locked: failures held in memory per key, and keys held at most. */
  guardLocalFailuresPerKey: 1_000,
  guardLocalKeys: 100_000,
  /**
   * A network or browser a user signed in from stays "known" this long after the last sign-in
   * from it: the owner's usual places keep working while guesses from elsewhere are bounded.
   */
  knownSourceMs: 180 * 24 * 60 * 60_000,
  /**
   * Longest request line of the verify service (Dovecot's Lua passdb, src/verify). A request
   * carries a user name (255 characters), a secret (1024 characters) and the IMAP ID string
   * (Dovecot keeps at most ~1000 bytes), percent-encoded: up to 3 bytes per byte and 4 bytes per
   * character. 24 KiB holds the worst case of all three; a longer line is no real request.
   */
  verifyLineBytes: 24 * 1024,
  /**
   * A verify connection idle this long is closed. The Lua passdb keeps one connection per Dovecot
   * auth-worker and reconnects once when it finds it closed; an idle worker lives about a minute.
   */
  verifyIdleMs: 5 * 60_000,
  /**
   * Verify connections open at once: Dovecot runs at most auth-worker process_limit (30 by
   * default) workers, each with one connection; room for several Dovecot instances and restarts.
   */
  verifyMaxConnections: 256,
  /**
   * Time the verify service gives the policy for one answer before it answers "temporary
   * failure". Below the Lua passdb's own socket timeout (15 s in config/dovecot/twostep-auth.lua),
   * so Dovecot hears twostep's answer rather than a timeout.
   */
  verifyDecisionMs: 10_000,
  /**
   * One-time passes the portal's password check may hold at once (src/verify/password-check-passes):
   * each lives limits.portalPasswordCheckMs; sign-ins are throttled far below this many per 15 s.
   */
  passwordCheckPassesMax: 10_000,
  /**
   * Deadline of [dovecot] kick_command (doveadm kick) after a revoke: doveadm answers in
   * milliseconds; a hung one is killed so a CLI command or a shutdown never waits longer.
   */
  kickCommandMs: 10_000,
  /** Bytes of a kick command's output kept for the log line when it fails. */
  kickOutputBytes: 2_048,
  /** kick_command runs at most this many at once; more wait their turn (a domain disallowed may end thousands). */
  kickParallel: 8,
  /**
   * Deadline of each `doveconf -n` / `postconf -n` / `postconf -M` run by `twostep doctor`
   * (they read local files and answer in well under a second).
   */
  doctorCommandMs: 20_000,
  /** Largest output of one of those commands that doctor reads (a large doveconf -n is ~50 KiB). */
  doctorOutputBytes: 4 * 1024 * 1024,
  /** After a final BYE, how long the peer may take to read it before the socket is destroyed. */
  closeLingerMs: 2_000,
  /**
   * Read buffer of a plaintext backend connection under bulk transfer, reused for every read.
   * 256 KiB: on loopback a 50 MiB copy took ~1.2x a direct read with 64 KiB reads (Node's
   * default), ~1.05x with 256 KiB (fewer reads, writes and callbacks); more gained nothing.
   * Held only while a transfer runs; an idle session goes back to the shared spliceReadSmallBytes.
   */
  spliceReadBytes: 256 * 1024,
  /**
   * The read buffer while reads are small (commands, IDLE updates): one for the whole process,
   * shared by every backend connection (each small read is copied out in its callback), so an
   * idle session holds none. Allocated on its own (allocUnsafeSlow), not from Node's 8 KiB pool.
   */
  spliceReadSmallBytes: 2 * 1024,
  /** After one side of a proxied session closes, how long the other side may take to flush and close. */
  spliceLingerMs: 10_000,
  /**
   * At shutdown, a logged-in IMAP or POP3 session hears "* BYE" / "-ERR [SYS/TEMP]" only when the
   * backend's last bytes ended a line and came at least this long ago: between responses (IDLE,
   * a client thinking), not inside one (a FETCH literal arrives in one burst, far faster than
   * this). Otherwise the session is closed without a word, which never garbles a response.
   */
  goodbyeQuietMs: 250,
  /**
   * At shutdown, how long a logged-in session may wait for such a quiet moment before it is
   * closed without a word: Dovecot's IDLE keepalive ("* OK Still here") just before is followed
   * by quiet. Within shutdownLastWordsMs, before the cut (a second before the grace ends).
   */
  goodbyeWaitMs: 1_000,
  /** How often a session waiting for its quiet moment looks again. */
  goodbyeRecheckMs: 50,
  /**
   * How often `serve` asks the store whether the application codes of live sessions were revoked
   * (the CLI revokes from another process, so there is nothing to be told; we look). One indexed
   * query over the ids of open sessions, skipped when there are none: cheap enough for 5 s, and
   * a revoked phone in IDLE is cut off within seconds, not at its next login. Default of
   * [auth] revocation_poll_seconds.
   */
  revocationPollMs: 5_000,
  /**
   * How often `serve` deletes audit events older than [store] audit_retention_days (and once at
   * start). Every login writes one event, so a busy server grows by ~100k rows a day otherwise.
   */
  auditPruneIntervalMs: 6 * 60 * 60_000,
  /**
   * Lifetime of a verified (user, application code) pair in memory: a phone that checks mail
   * every minute opens a connection each time, and without this each login costs one argon2
   * verification (tens of ms of CPU, 19 MiB). A hit still checks in the database that the code
   * is active, so a revoke elsewhere applies at once; 5 min bounds how long a code that leaked
   * from memory could be replayed without argon2. Default of [auth] login_cache_seconds.
   */
  verifiedCredentialTtlMs: 5 * 60_000,
  /** Most verified pairs held (about 200 bytes each: 20 MiB at most). */
  verifiedCredentialMaxEntries: 100_000,
  /**
   * How long a write or a transaction waits for the database's write lock, held by another
   * process (a backup, a long CLI transaction), before it fails with STORE_BUSY. The wait is
   * asynchronous (SQLite's busy_timeout is 0 and a refused attempt is retried on a timer), so the
   * event loop never stalls. 5 s: what busy_timeout was; a person at the portal or the CLI gets a
   * clear "try again" instead of a hang, and writes nobody waits for go to the write-behind queue.
   */
  storeBusyMs: 5_000,
  /** First pause before a locked statement is tried again; it doubles up to storeBusyRetryMaxMs. */
  storeBusyRetryFirstMs: 2,
  /** Longest pause between two tries: a released lock is noticed within this. */
  storeBusyRetryMaxMs: 100,
  /**
   * Longest a transaction may stay open once it holds the write lock. Its function may await only
   * store calls (microseconds each); past this it is rolled back and fails, so a mistake (an
   * argon2 or network call inside) cannot keep other processes and this one from writing.
   */
  storeTransactionMs: 2_000,
  /**
   * How long a write nobody waits for (audit event, Last Used, last-seen touches) may sit in the
   * queue before it is written, batched with the others in one transaction. Short: the CLI and
   * the portal show Last Used, and the backend login after a decision takes longer anyway.
   */
  writeBehindDelayMs: 25,
  /**
   * How long a read that shows this process's queued writes (the audit trail, Last Used) first
   * waits for them. They take milliseconds when the database takes writes; while another process
   * holds the lock, waiting longer would only delay the page, which then shows what is stored.
   */
  storeReadSettleMs: 250,
  /** Most writes in one write-behind transaction (a few ms of inserts): the event loop moves on between batches. */
  writeBehindBatchItems: 500,
  /**
   * Most writes the queue holds while the database is locked (about 1 KiB each: 50 MiB). A 15 s
   * lock at 1,000 logins/s with two events each is 30,000. Beyond it new writes are dropped,
   * counted and logged (Last Used and touches replace a queued write of the same row, so mostly
   * audit events): memory stays bounded and logins go on.
   */
  writeBehindMaxItems: 50_000,
  /** While writes are being dropped, at most one warning per this interval (with the count). */
  writeBehindWarnEveryMs: 60_000,
  /** A write that fails with a fault other than a lock (a full disk) is tried this often, then given up and logged. */
  writeBehindFaultAttempts: 3,
  /** Pause between those attempts. */
  writeBehindFaultRetryMs: 200,
  /**
   * On close (shutdown, end of a CLI command), how long the write-behind queue may take to drain
   * while the database is locked; what is still queued then is logged as lost.
   */
  storeCloseFlushMs: 10_000,
  /**
   * PostgreSQL ([store] url). Connections per node (a login runs one short query at a time; 10
   * covers hundreds of logins/s). Connect 3 s: a database that does not answer makes a login fail
   * as temporary within the decision deadline. A statement 5 s, a lock of another node (a
   * guessing key, a row: held for milliseconds) 2 s. A connection idle in a transaction 10 s:
   * a node that froze mid-transaction lets go of its locks. The LISTEN connection (revocations
   * from other nodes) is tried again every 1 s while the database is away.
   */
  pgPoolMax: 10,
  pgConnectMs: 3_000,
  pgStatementMs: 5_000,
  pgLockWaitMs: 2_000,
  pgIdleInTransactionMs: 10_000,
  pgListenRetryMs: 1_000,
  /**
   * PROXY protocol ([server] proxy_protocol_from): the balancer sends its header at once; longest
   * wait for it, and its largest size (v1 is at most 107 bytes; v2 with TLVs, capped here).
   */
  proxyHeaderMs: 5_000,
  proxyHeaderMaxBytes: 1_024,
  /** Rows deleted per statement while pruning: short write transactions, so logins never wait long. */
  auditPruneBatch: 5_000,
  /**
   * Largest request body the portal reads: its forms carry a user name, a password and a code
   * or an application name (well under 1 KiB); anything bigger is refused before parsing.
   */
  portalBodyBytes: 16 * 1024,
  /** Whole HTTP request (headers and body) from a browser; slow-loris clients are cut off. */
  portalRequestMs: 30_000,
  /** Request headers; Node's default is 60 s, a browser sends them at once. */
  portalHeadersMs: 15_000,
  /** Keep-alive between requests of one browser connection. */
  portalKeepAliveMs: 5_000,
  /**
   * After "Confirm Password" the setup wizard may be used this long: long enough to install an
   * authenticator app and type its code, short enough that an unattended signed-in browser cannot
   * enrol a new phone much later.
   */
  portalReauthMs: 15 * 60_000,
  /**
   * A sign-in that passed the password but not yet the code: the code page stays usable this long
   * (time to fetch the phone), not for the whole session lifetime.
   */
  portalSecondFactorMs: 10 * 60_000,
  /** IMAP login used to check a portal password against the mail server (connect, TLS, LOGIN). */
  portalPasswordCheckMs: 15_000,
  /** Audit rows the admin console shows at most on one page. */
  portalAuditRows: 500,
  /**
   * One start-up check of a backend (connect, greeting, STARTTLS, the master login): a healthy
   * Dovecot answers in milliseconds, but its auth penalty may hold a login from twostep's
   * address a few seconds after a failed one (a restart loop), so not shorter than that.
   */
  startupCheckMs: 10_000,
  /**
   * Pause between start-up checks of a backend that does not answer yet ([backend]
   * startup_wait_seconds bounds the whole wait): Dovecot and Postfix start in about 1-3 s.
   */
  startupRetryMs: 2_000,
  /** How often expired portal sessions are deleted from the store. */
  portalSessionSweepMs: 15 * 60_000,
  /**
   * Open files `serve` keeps for everything but client and backend connections: Node's own
   * (epoll, eventfd, signal pipe, stdio), the listeners, the database (file, WAL, shared memory),
   * libuv's spare fd for EMFILE, a doveadm kick's pipes. About 25 are open at "ready"; the rest is room.
   */
  fdReserveBase: 64,
  /** ... and for the portal's browser connections, when [portal] is on (a browser opens up to 6). */
  fdReservePortal: 128,
  /** ... and for scrapers of [metrics] (one Prometheus, a curl or two). */
  fdReserveMetrics: 16,
  /**
   * ... and for connections being refused ("too many from your address", "busy"): each holds its
   * fd for its last words (limits.closeLingerMs), or a TLS handshake (limits.refusalHandshakeMs).
   */
  fdReserveRefusals: 64,
  /** A proxied session holds two files: the client's socket and the backend's. */
  fdsPerSession: 2,
  /** [limits] max_connections when the fd limit cannot be read (no /proc): a modest server. */
  maxConnectionsUnknownFds: 4_000,
  /**
   * Default of [limits] max_connections_per_ip (clients of one address not logged in yet). A
   * client logs in within a second of connecting, so even a NAT of hundreds of phones rarely has
   * 50 at once; Postfix's smtpd_client_connection_count_limit is 50 too.
   */
  maxConnectionsPerIpDefault: 50,
  /**
   * Connections accepted while max_connections are open wait for a free place (no greeting yet)
   * instead of being cut: Node has no way to stop calling accept() (nginx leaves them in the
   * kernel's backlog), so this is that backlog. At most this many wait (and at most 1/8 of the
   * file budget); beyond it a new client hears the protocol's "busy" refusal.
   */
  connectionWaitMax: 256,
  /** How long one waits for a place before it hears "busy": clients wait 30-60 s for a greeting. */
  connectionWaitMs: 10_000,
  /**
   * After accept() or a backend connect failed with EMFILE/ENFILE (no file left), new clients hear
   * "busy" at once for this long instead of being served (nginx's accept_mutex_delay is 500 ms).
   */
  fdExhaustedPauseMs: 500,
  /** TLS handshake deadline of a connection that is only accepted to be refused (implicit TLS). */
  refusalHandshakeMs: 5_000,
  /** Lines about limits (refusals, a full server, EMFILE) are written at most once per this, with counts. */
  limitLogEveryMs: 10_000,
  /** Default of [server] shutdown_grace_seconds: how long logged-in sessions run on after SIGTERM. */
  shutdownGraceMsDefault: 30_000,
  /**
   * Of the shutdown grace, the end kept for last words and the store: logged-in sessions hear
   * their goodbye this long before the grace ends (or at half the grace when it is shorter),
   * sessions still open at its end are cut, and what the write-behind queue still holds is written.
   */
  shutdownLastWordsMs: 3_000,
  /**
   * How long past the shutdown grace the process may still take (writing its last lines and
   * exiting) before it exits anyway; systemd's TimeoutStopSec must be longer than both.
   */
  shutdownOverrunMs: 1_000,
  /** Each backend probe of /readyz (connect, greeting; TLS when the backend speaks it). */
  readyProbeMs: 3_000,
  /** /readyz answers from its last result for this long: a busy scraper costs the backends nothing. */
  readyCacheMs: 1_000,
  /** /readyz's store check waits at most this long for the write lock. */
  readyStoreBusyMs: 500,
  /**
   * While the database is locked by another process, /readyz stays 200 (logins go on, writes
   * wait in the queue) until the oldest queued write is this old: then it says 503 "store locked".
   */
  readyWriteAgeMs: 30_000,
  /** Request headers and whole request of the metrics listener (a scraper sends them at once). */
  metricsRequestMs: 10_000,
  /**
   * Most [server] workers: each is a whole Node process (about 60 MiB at rest) with its own store
   * connection (PostgreSQL: its own pool of pgPoolMax); more processes than cores only add memory.
   */
  workersMax: 64,
  /**
   * A worker that died is started again after this pause, doubling with each death in a row up
   * to workerRestartMaxMs: a crash loop (a broken disk, a store that refuses) costs a few starts
   * a minute, not a hot loop, while a single crash is replaced at once.
   */
  workerRestartFirstMs: 250,
  workerRestartMaxMs: 30_000,
  /** A worker that ran this long before it died starts the backoff over (its death is no loop). */
  workerStableMs: 60_000,
  /**
   * From fork to "listening" for one worker: it opens the store and binds through the supervisor
   * (the backend checks ran once, before it); past this it is stopped (at start: serve fails).
   */
  workerStartMs: 30_000,
  /**
   * A question between the supervisor and a worker (metrics, readiness, a portal pass): answered
   * in microseconds, /readyz's backend probes in limits.readyProbeMs; a worker silent longer is
   * left out of that answer.
   */
  workerRequestMs: 5_000,
  /**
   * At a shutdown with workers, how long past a worker's own deadline (the grace and
   * shutdownOverrunMs) the supervisor waits for it to exit before it kills what is left: its
   * last lines and its exit take milliseconds; systemd's TimeoutStopSec is longer than all three.
   */
  supervisorStopMarginMs: 500,
  /**
   * Largest write of a worker's log stream: every worker and the supervisor write to the same
   * stderr, and a pipe write up to PIPE_BUF (4096 on Linux) is never interleaved with another
   * process's, so lines stay whole.
   */
  workerLogWriteBytes: 4_096,
  /**
   * The Apple profile offered after "Add Application Code" holds the new code: it can be
   * downloaded once, by the session that made the code, within this time (the page says so);
   * then it is gone from memory, like the code from the page.
   */
  profileOfferMs: 10 * 60_000,
  /** Profiles waiting to be downloaded at most (each a few hundred bytes); the oldest goes first. */
  profileOffersMax: 10_000,
  /** Deadline of `openssl cms -sign` for one profile (milliseconds of work; a hung one is killed). */
  profileSignMs: 10_000,
  /** Largest signed profile read back from openssl (a profile is ~3 KiB, with a certificate chain ~10 KiB). */
  profileSignedBytes: 256 * 1024,
  /**
   * How often `serve`'s notice sender looks for due notices: one indexed query, so a notice made
   * by the CLI or another process goes out within seconds.
   */
  noticePollMs: 2_000,
  /** Notices claimed and sent in one go (one SMTP connection). */
  noticeBatch: 50,
  /**
   * How long a claimed notice stays with its sender: longer than a whole batch can take (each
   * SMTP step has its own deadline below), so a sender that died frees its notices after it.
   */
  noticeLeaseMs: 10 * 60_000,
  /**
   * First wait before a notice that could not be sent is tried again; it doubles up to
   * noticeRetryMaxMs. A mail server restarting is back within seconds; a longer outage gets one
   * try per half hour, not a connection every few seconds.
   */
  noticeRetryFirstMs: 5_000,
  noticeRetryMaxMs: 30 * 60_000,
  /** A notice not sent after this many tries, or this old, is given up (logged): two days, as mail servers bounce late mail. */
  noticeMaxAttempts: 100,
  noticeMaxAgeMs: 2 * 24 * 60 * 60_000,
  /** TCP connect and TLS handshake to the mail server that takes notices. */
  noticeSmtpConnectMs: 10_000,
  /** One reply of that server (Postfix answers at once; the end of DATA may take a content filter's time). */
  noticeSmtpReplyMs: 60_000,
  /** Largest reply (all its lines) read from it: Postfix's EHLO is well under 1 KiB. */
  noticeSmtpReplyBytes: 16 * 1024,
  /** Sent and given-up notices are kept this long (the admin can see what went out), then pruned. */
  noticeKeepMs: 30 * 24 * 60 * 60_000,
  /** How often (and at start) `serve` looks for codes that expire within codeExpiryNoticeMs. */
  noticeExpiryScanMs: 10 * 60_000,
  /** A user is told this long before an application code expires (issue 15: a week). */
  codeExpiryNoticeMs: 7 * 24 * 60 * 60_000,
  /** At most one "account locked" notice per user within this time, however often a guesser trips the bound. */
  noticeLockedQuietMs: 60 * 60_000,
} as const;

export type Limits = typeof limits;

/**
 * The portal's second step (a 6-digit TOTP code, ±1 step: 3 codes in 10^6 are right at any moment;
 * or an 8-digit one-time code: 10 in 10^8) is guessable by someone who has the password. Failures
 * are counted per account over secondFactorWindowMs; the first secondFactorFreeFailures are free,
 * then each further attempt waits secondFactorFirstWaitMs, doubling up to secondFactorMaxWaitMs;
 * past secondFactorTotpFailures only a one-time code is accepted. In 30 days that allows at most
 * ~730 attempts, of which at most 100 with TOTP: odds of a right guess ≤ 100·3e-6 + 730·1e-7 ≈
 * 0.04 %. A browser the owner signed in with before counts apart (her own typos never wait
 * behind an attacker's guesses), and a trusted computer skips the step.
 */
export const secondFactorLimits = {
  secondFactorWindowMs: 30 * 24 * 60 * 60_000,
  secondFactorFreeFailures: 5,
  secondFactorFirstWaitMs: 60_000,
  secondFactorMaxWaitMs: 60 * 60_000,
  secondFactorTotpFailures: 100,
} as const;
