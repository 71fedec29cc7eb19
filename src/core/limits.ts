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
  /** Time the policy may take for one decision (argon2 + SQLite); past it the client hears UNAVAILABLE. */
  authDecisionMs: 15_000,
  /**
   * Longest a login attempt awaiting its verdict (argon2, or the backend judging a passthrough
   * password) counts against the throttles when no verdict is reported (the client left first):
   * the policy's decision plus the backend login, with room.
   */
  pendingAttemptMs: 40_000,
  /**
   * Protocol logins of one user awaiting their verdict at once: a mail app opens a few
   * connections together and a user has several devices; a parallel guessing burst stops here.
   */
  userLoginsInFlight: 32,
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
   * How long a login's Last Used may wait before it is written (batched with the others in one
   * transaction). Short: the CLI and the portal show it, and the backend login that follows the
   * decision takes longer than this anyway.
   */
  lastUsedFlushMs: 25,
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
  /** Users the admin console lists at most. */
  portalUserRows: 5_000,
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
