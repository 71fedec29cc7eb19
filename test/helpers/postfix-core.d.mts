export interface StartPostfixOptions {
  /** The test Dovecot's LMTP socket: mail for `domain` is delivered there. */
  lmtpSocket: string;
  /** smtpd_sasl_path: the test Dovecot's auth listener, "inet:127.0.0.1:PORT" or a socket path. */
  saslPath: string;
  /** PEM cert and key Postfix shows (STARTTLS and the implicit-TLS listener). */
  tls: { cert: string; key: string };
  /** virtual_mailbox_domains; default "test.example". */
  domain?: string;
  myhostname?: string;
  /** smtpd_authorized_xclient_hosts of the two built-in listeners; default "127.0.0.1". "" lets no host use XCLIENT. */
  xclientHosts?: string;
  /** smtpd_sender_login_maps as address → login name(s) (an inline: table). */
  senderLogins?: Record<string, string>;
  /** More `-o key=value` for both submission listeners. */
  extraSubmissionOptions?: string[];
  /**
   * More master.cf services, e.g. the admin snippets from config/postfix with their port,
   * chroot and SASL path adapted (main.cf allows XCLIENT nowhere; a service enables it with -o).
   */
  extraServices?: string;
  /** More main.cf lines, appended last (a later setting of a parameter wins), e.g. "in_flow_delay = 0". */
  extraMainCf?: string;
}

export interface PostfixInstance {
  /** The instance's folder (etc/ = config directory, queue/, data/, postfix.log). */
  dir: string;
  /** The config directory (`postfix -c`). */
  confDir: string;
  /** pid of the Postfix master. */
  pid: number;
  /** Submission with STARTTLS (and SASL) on 127.0.0.1. */
  submissionPort: number;
  /** Submission with implicit TLS (smtpd_tls_wrappermode) on 127.0.0.1. */
  smtpsPort: number;
  domain: string;
  logPath: string;
  startupMs: number;
  /** The whole maillog so far. */
  log(): string;
  /** The maillog once `re` matches it (or the timeout passed). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM the master, wait for its processes (SIGKILL after 5 s), remove the folder. */
  stop(): Promise<void>;
}

export declare function startPostfix(opts: StartPostfixOptions): Promise<PostfixInstance>;
export declare function findPostfixBinary(): string | null;
export declare function renderMainCf(p: Record<string, unknown>): string;
export declare function renderMasterCf(p: Record<string, unknown>): string;
/** A config/postfix snippet with its port, chroot `n` and the given SASL path (see postfix-core.mjs). */
export declare function postfixSnippet(file: string, o: { port: number; saslPath: string }): string;
