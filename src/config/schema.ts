import { z } from 'zod';
import { isAddressOrNetwork } from '../core/address-list.js';
import { limits } from '../core/limits.js';
import { address, backendTls, optionalListen } from './address-schema.js';
import { clientsSchema } from './clients-schema.js';
import { notifySchema } from './notify-schema.js';
import { DEFAULT_TLS12_CIPHERS } from '../core/server-tls.js';


export const configSchema = z
  .object({
    store: z
      .object({
        path: z.string().min(1).default('data/twostep.db'),
        /**
         * A PostgreSQL database instead of the SQLite file at `path`, shared by several twostep
         * nodes: "postgres://user:password@host:5432/twostep", or a unix socket with
         * "postgresql://user@/twostep?host=/run/postgresql". Needs secret_key_file (the same
         * key file on every node).
         */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a "postgres://" or "postgresql://" URL')
          .optional(),
        /** File holding the 32-byte key that encrypts TOTP secrets at rest; default: beside the database. */
        secret_key_file: z.string().min(1).optional(),
        /** Audit events older than this many days are deleted by `serve` (0 keeps them forever). */
        audit_retention_days: z.number().int().min(0).max(36_500).default(180),
      })
      .strict()
      .refine((st) => st.url === undefined || st.secret_key_file !== undefined, {
        message: 'required with store.url: every node needs the same key file (copy it from the first node)',
        path: ['secret_key_file'],
      })
      .prefault({}),
    tls: z
      .object({
        cert: z.string().min(1).default('config/tls/cert.pem'),
        key: z.string().min(1).default('config/tls/key.pem'),
        /** Lowest TLS version a client may use: "TLSv1.2" (default) or "TLSv1.3". */
        min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are all AEAD and stay as they are). */
        ciphers: z.string().min(1).default(DEFAULT_TLS12_CIPHERS),
      })
      .strict()
      .prefault({}),
    backend: z
      .object({
        master_user: z.string().min(1),
        /**
         * Dovecot's auth_master_user_separator. A user name holding it ("alice*proxymaster"), or
         * the master user's own name, is refused before any backend contact: the master login is
         * twostep's alone. "" when Dovecot has none.
         */
        master_separator: z.string().max(8).default('*'),
        master_password: z.string().min(1).optional(),
        master_password_file: z.string().min(1).optional(),
        /** CA bundle to verify the backend's certificate when backend_tls is starttls or tls. */
        ca: z.string().min(1).optional(),
        /** Name checked against the backend certificate (default: the backend host). */
        servername: z.string().min(1).optional(),
        /**
         * A mailbox the start-up check logs in to with the master user. Unset: a name no mailbox
         * has, which Dovecot refuses with AUTHORIZATIONFAILED once the master password is right
         * (needs `pass = yes` in the master passdb, as config/dovecot/ sets it up).
         */
        check_user: z.string().min(1).max(limits.userNameChars).regex(/^[^\s\0]+$/, 'no spaces').optional(),
        /**
         * How long `serve` waits at start for a backend that does not answer yet (Dovecot or
         * Postfix starting a moment later), trying again every few seconds; 0: fail at once.
         */
        startup_wait_seconds: z.number().int().min(0).max(600).default(30),
      })
      .strict()
      .refine((b) => !!b.master_password !== !!b.master_password_file, {
        message: 'set exactly one of master_password or master_password_file',
        path: ['master_password'],
      }),
    imap: z
      .object({
        listen: optionalListen('127.0.0.1:1143'),
        listen_tls: optionalListen('127.0.0.1:1993'),
        backend: address('backend', '127.0.0.1:143'),
        backend_tls: backendTls.default('none'),
        /**
         * Backend connections opened ahead of logins, so a login skips the connect and greeting
         * wait (~4 ms on loopback, a TLS handshake more with backend_tls = "tls"). Off by default:
         * each unused one ends in Dovecot's log as "Disconnected (no auth attempts ...)" from
         * twostep's address, which fail2ban's aggressive dovecot filter counts against it.
         */
        backend_spares: z.number().int().min(0).max(limits.upstreamSparesMax).default(0),
      })
      .strict()
      .prefault({}),
    /** POP3 front end; absent = off. Listeners as for IMAP: STLS on `listen`, implicit TLS on `listen_tls`. */
    pop3: z
      .object({
        listen: optionalListen('127.0.0.1:1110'),
        listen_tls: optionalListen('127.0.0.1:1995'),
        backend: address('backend', '127.0.0.1:110'),
        backend_tls: backendTls.default('none'),
      })
      .strict()
      .optional(),
    /** SMTP submission front end; absent = off. STARTTLS on `listen` (587-style), implicit TLS on `listen_tls` (465-style). */
    smtp: z
      .object({
        listen: optionalListen('127.0.0.1:1587'),
        listen_tls: optionalListen('127.0.0.1:1465'),
        backend: address('backend', '127.0.0.1:587'),
        backend_tls: backendTls.default('none'),
        /**
         * How twostep logs in to Postfix for an application code: "master" = AUTH PLAIN with the user
         * as authorization identity through the Dovecot master login; "xclient" = XCLIENT LOGIN=<user>
         * (twostep must be in Postfix's smtpd_authorized_xclient_hosts).
         */
        backend_login: z.enum(['master', 'xclient']).default('master'),
      })
      .strict()
      .optional(),
    /** Self-service web portal and admin console; absent = off. */
    portal: z
      .object({
        listen: address('listen', '127.0.0.1:8080'),
        /** true: HTTPS with the [tls] certificate. false: plain HTTP, for use behind a reverse proxy. */
        tls: z.boolean().default(false),
        /** Cookies marked Secure (sent over HTTPS only). Default: the value of `tls`; set true behind an HTTPS proxy. */
        secure_cookies: z.boolean().optional(),
        /** Take the client IP from the last X-Forwarded-For hop (only behind a reverse proxy you run). */
        trust_proxy: z.boolean().default(false),
        /** A computer trusted at sign-in is not asked for a code again for this many days. */
        trusted_device_days: z.number().int().min(1).max(365).default(30),
        /** A portal session ends after this many idle minutes. */
        session_idle_minutes: z.number().int().min(1).max(24 * 60).default(30),
        /** ... and at the latest this many hours after sign-in. */
        session_max_hours: z.number().int().min(1).max(24 * 30).default(12),
        /** The portal's address as users reach it (the link in every notice mail). */
        public_url: z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s]*)?$/, 'must be an http(s) URL such as "https://mail.example.com/"').optional(),
      })
      .strict()
      .optional(),
    /**
     * Dovecot asks twostep for every password login (every door: IMAP, POP3, ManageSieve,
     * submission, Postfix SASL) through config/dovecot's Lua passdb; absent = off.
     */
    dovecot: z
      .object({
        /** Unix socket of the verify service; "" = none (then verify_listen). */
        verify_socket: z.string().default('/run/twostep/verify.sock'),
        /** Its mode: the Lua passdb runs in Dovecot's auth-worker (root, or dovecot when so configured). */
        verify_socket_mode: z.string().regex(/^0?[0-7]{3}$/, 'must be an octal mode such as "0660"').default('0660'),
        /** Its group (name or number), e.g. "dovecot"; default: twostep's own group. */
        verify_socket_group: z.string().min(1).optional(),
        /** Loopback host:port instead of (or beside) the socket, e.g. "127.0.0.1:7025"; "" = off. */
        verify_listen: optionalListen('').refine(
          (a) => a === null || /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(a.host),
          'must be a loopback address (127.x.x.x, [::1] or localhost)',
        ),
        /**
         * Run after a code is revoked or two-step authentication turned off, to end the user's
         * Dovecot sessions: argv (no shell), "{user}" replaced by the user name. [] = off (Dovecot
         * on another host).
         */
        kick_command: z
          .array(z.string().min(1))
          .max(32)
          .default(['doveadm', 'kick', '{user}'])
          .refine((a) => a.length === 0 || a.slice(1).some((x) => x.includes('{user}')), 'must name "{user}" in an argument, or be [] (off)'),
      })
      .strict()
      .refine((d) => d.verify_socket !== '' || d.verify_listen !== null, {
        message: 'set verify_socket or verify_listen',
        path: ['verify_socket'],
      })
      .optional(),
    /** What mail apps that set themselves up are told (clients-schema.ts); absent = nothing advertised. */
    clients: clientsSchema.optional(),
    /** Mails to users about their account (notify-schema.ts); absent = none sent. */
    notify: notifySchema.optional(),
    auth: z
      .object({
        allow_plaintext: z.boolean().default(false),
        /**
         * Failed logins from one IP within the window before further attempts from it are refused.
         * High on purpose: behind carrier-grade NAT thousands of phones share one address, and a
         * few stale passwords there must not lock everyone else out. Guessing one account is
         * bounded by user_failures.
         */
        ip_failures: z.number().int().min(1).default(100),
        /** Failed logins for one user within the window before further attempts are refused. */
        user_failures: z.number().int().min(1).default(10),
        /** Sliding window for both counters, seconds. */
        failure_window_seconds: z.number().int().min(1).default(300),
        /** Pause before a refused login is answered (Dovecot's auth_failure_delay, 2 s by default). */
        failure_delay_ms: z.number().int().min(0).max(10_000).default(2000),
        /**
         * How often open sessions are checked for a revoked application code (or two-step turned
         * off); such sessions are closed. At most an hour: a timer cannot wait much longer.
         */
        revocation_poll_seconds: z.number().int().min(1).max(3600).default(limits.revocationPollMs / 1000),
        /**
         * How long a verified application code is remembered in memory so the client's next
         * logins skip argon2 (the code row is still checked in the database each time). 0: off.
         */
        login_cache_seconds: z.number().int().min(0).max(3600).default(limits.verifiedCredentialTtlMs / 1000),
      })
      .strict()
      .prefault({}),
    codes: z
      .object({
        /** Most active application codes one user may have. */
        max_app_codes: z.number().int().min(1).max(1000).default(25),
        /** Lifetime in days a new application code gets unless its maker picks one; 0: never expires (or max_expiry_days when set). */
        default_expiry_days: z.number().int().min(0).max(3650).default(0),
        /** Longest lifetime in days a code may get; 0: no limit (codes may never expire). */
        max_expiry_days: z.number().int().min(0).max(3650).default(0),
      })
      .strict()
      .refine((c) => c.max_expiry_days === 0 || c.default_expiry_days <= c.max_expiry_days, {
        message: 'must not be above max_expiry_days',
        path: ['default_expiry_days'],
      })
      .prefault({}),
    totp: z
      .object({
        /** Issuer shown in the authenticator app (otpauth:// issuer). */
        issuer: z.string().min(1).default('twostep'),
      })
      .strict()
      .prefault({}),
    /** The `serve` process itself. */
    server: z
      .object({
        /**
         * After SIGTERM / SIGINT, how long logged-in sessions run on before they hear the
         * protocol's goodbye; the process exits within it. 0: goodbye at once.
         */
        shutdown_grace_seconds: z.number().int().min(0).max(3600).default(limits.shutdownGraceMsDefault / 1000),
        /**
         * Load balancers in front of the IMAP, POP3 and SMTP listeners that send the PROXY
         * protocol (v1 or v2) header: addresses or networks ("10.0.0.5", "10.0.0.0/24", "::1").
         * A connection from one of them must start with the header (else it is closed), and the
         * client address it names is the one twostep uses; from anywhere else a header is refused.
         */
        proxy_protocol_from: z.array(z.string().refine(isAddressOrNetwork, 'must be an IP address or a network such as "10.0.0.0/24"')).max(256).default([]),
        /**
         * Worker processes sharing every listener (src/server/cluster): unset, one per core
         * (os.availableParallelism()); 1 runs the single process of old, without a supervisor.
         */
        workers: z.number().int().min(1).max(limits.workersMax).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Connection limits of the mail front ends (IMAP, POP3, SMTP together). Unset: sized from the
     * process's open-file limit (ulimit -n / LimitNOFILE=); a value that does not fit is lowered
     * (logged at start). Both change on SIGHUP.
     */
    limits: z
      .object({
        /** All client connections at once; beyond it new ones wait (a moment) for a place. */
        max_connections: z.number().int().min(1).max(1_000_000).optional(),
        /** Connections not logged in yet from one address; beyond it: "too many connections from your address". */
        max_connections_per_ip: z.number().int().min(1).max(1_000_000).optional(),
      })
      .strict()
      .prefault({}),
    /** Prometheus metrics, /healthz and /readyz over HTTP; absent = off. */
    metrics: z
      .object({
        /** Loopback by default: the numbers are for the admin's scraper, not the world. */
        listen: address('listen', '127.0.0.1:9465'),
      })
      .strict()
      .optional(),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.notify === undefined || c.portal?.public_url !== undefined, {
    message: 'required with [notify]: every notice links to the portal',
    path: ['portal', 'public_url'],
  });

export type Config = z.infer<typeof configSchema>;
export type BackendTls = z.infer<typeof backendTls>;
export type SmtpBackendLogin = 'master' | 'xclient';
