export interface DovecotUser {
  user: string;
  password: string;
}

export interface StartDovecotOptions {
  /** Virtual users (passwd-file, {PLAIN}); no ':' or '*' in names, no ':' in passwords. */
  users: DovecotUser[];
  /** The master user (master passdb with pass = yes, separator '*'). */
  master: DovecotUser;
  /** login_trusted_networks; default '127.0.0.0/8 ::1'. */
  trustedNetworks?: string;
  /** Paths of a PEM cert and key: enables ssl = yes and the imaps/pop3s listeners. */
  tls?: { cert: string; key: string };
  /**
   * Put twostep's Lua passdb (config/dovecot/10-twostep-passdb.conf and twostep-auth.lua, as
   * shipped, with only the script and socket paths replaced) before the users' passdb:
   * `socket` is the verify service's unix socket path or its loopback host:port (several,
   * comma-separated, are tried in order).
   */
  twostepPassdb?: { socket: string };
  /** Adds `sieve` to protocols and a ManageSieve listener (sievePort). */
  manageSieve?: boolean;
  /** service auth-worker { user = ... } (Dovecot's default: root); e.g. 'dovecot'. */
  authWorkerUser?: string;
  /** More dovecot.conf text, appended last (e.g. "auth_cache_size = 1M"). */
  extraConf?: string;
  /**
   * Use this folder instead of a fresh mkdtemp folder (the demo wants a known place).
   * It is then NOT removed by stop(). Tests should leave it out.
   */
  dir?: string;
  /**
   * Advanced: rewrite the generated dovecot.conf before the start (e.g. to include the admin
   * snippets from config/dovecot). Gets the text and the instance's paths, returns the text.
   */
  configOverride?: (
    conf: string,
    paths: { dir: string; baseDir: string; usersFile: string; masterFile: string },
  ) => string;
}

export interface DovecotInstance {
  /** The instance's folder (config, passwd-files, base_dir=run/, state/, mail/, dovecot.log). */
  dir: string;
  confPath: string;
  instanceName: string;
  /** pid of the Dovecot master. */
  pid: number;
  imapPort: number;
  pop3Port: number;
  /** Only with tls. */
  imapsPort?: number;
  /** Only with tls. */
  pop3sPort?: number;
  /** Only with manageSieve. */
  sievePort?: number;
  /** inet auth (client) listener on 127.0.0.1 for Postfix SASL: smtpd_sasl_path = inet:127.0.0.1:PORT. */
  authPort?: number;
  /** Unix auth client socket (mode 0666), the alternative for Postfix SASL. */
  authSocket: string;
  /** Unix LMTP socket (mode 0666); recipients user@anydomain map to the local part. */
  lmtpSocket: string;
  logPath: string;
  /** Milliseconds from the call to the first "* OK". */
  startupMs: number;
  /** The whole Dovecot log so far. */
  log(): string;
  /** The log once `re` matches it (or the timeout passed: then the log as it is), woken by its changes. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Put a message into the user's Maildir/new (owned by mail, uid 8). */
  deliver(user: string, rfc822: string): void;
  /** SIGTERM the master (SIGKILL after 5 s), wait for all its processes, remove the folder. */
  stop(): Promise<void>;
}

export declare function startDovecot(opts: StartDovecotOptions): Promise<DovecotInstance>;
/** The generated dovecot.conf (for docs and tests). */
export declare function renderDovecotConf(p: Record<string, unknown>): string;
/** Absolute path of the dovecot binary, or null when Dovecot is not installed. */
export declare function findDovecotBinary(): string | null;
/** Live pids of one instance (master and children). */
export declare function instanceProcesses(instanceName: string, confPath?: string): number[];
