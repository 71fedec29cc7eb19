import { awaitBackends } from './checks/backend-checks.js';
import { describeListenError } from './checks/listen-error.js';
import { describeCertificate, loadTlsFiles } from './checks/tls-files.js';
import type { BackendTls, Config } from './config/schema.js';
import { backendTarget, type BackendTarget, readMasterPassword, secretKeyPath } from './config/runtime-config.js';
import { configFileError } from './core/config-file-error.js';
import { formatHostPort, type HostPort } from './core/host-port.js';
import { limits } from './core/limits.js';
import { LogEvent } from './core/log-events.js';
import { logSafeError } from './core/log-safe-error.js';
import { serverTlsOptions } from './core/server-tls.js';
import type { Logger } from './core/logger.js';
import { ARGON2_TEST_PARAMS, argon2ParamsFrom, createArgon2Hasher, loadOrCreateKeyFile } from './crypto/index.js';
import { Policy } from './policy/index.js';
import { startImapServer } from './protocols/imap/imap-server.js';
import { startPop3Server } from './protocols/pop3/pop3-server.js';
import { startSmtpServer } from './protocols/smtp/smtp-server.js';
import { startRevocationWatcher } from './protocols/shared/revocation-watcher.js';
import { SessionRegistry } from './protocols/shared/session-registry.js';
import { openStore } from './store/index.js';
import { imapPasswordChecker } from './portal/imap-password-checker.js';
import { startPortal, type RunningPortal } from './portal/portal-server.js';
import { KickingPolicy } from './verify/kicking-policy.js';
import { PasswordCheckPasses } from './verify/password-check-passes.js';
import { createSessionKicker } from './verify/session-kicker.js';
import { startDovecotVerify, type RunningVerifyServer } from './verify/start-dovecot-verify.js';

export interface OpenedPolicy {
  policy: Policy;
  /**
   * Waits for the [dovecot] kick_command runs started by revokes so far; returns one line per
   * failure. Call before close() (the CLI shows the lines as warnings).
   */
  drain(): Promise<string[]>;
  /** Writes what is queued (audit, Last Used), then closes the store. */
  close(): Promise<void>;
}

/**
 * Composition of config → store → key file → policy, shared by `serve` and the admin commands.
 * The store comes first: it creates its folder (0700), where the key file goes by default.
 */
export async function openPolicy(config: Config, logger: Logger): Promise<OpenedPolicy> {
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config.store.path, { logger });
  } catch (err) {
    // The folder or file cannot be made or opened (EACCES, SQLITE_CANTOPEN, "file is not a
    // database"), also as the store's own error's cause: one line naming the key and the path.
    // A busy or locked database passes as it is.
    const fault = [err, (err as { cause?: unknown }).cause].find((e): e is Error & { code: string } =>
      e instanceof Error && /^E[A-Z]+$|^SQLITE_(CANTOPEN|NOTADB|READONLY|PERM|CORRUPT)/.test(String((e as { code?: unknown }).code)),
    );
    if (!fault) throw err;
    throw configFileError('store.path', config.store.path, `cannot open the database: ${fault.message} (${fault.code})`, err);
  }
  let masterKey: Buffer;
  try {
    masterKey = loadOrCreateKeyFile(secretKeyPath(config));
  } catch (err) {
    await store.close();
    throw err;
  }
  const kickArgv = config.dovecot?.kick_command ?? [];
  const kicker = kickArgv.length > 0 ? createSessionKicker(kickArgv, logger) : undefined;
  const argon2 = argon2ParamsFrom(process.env);
  if (argon2 === ARGON2_TEST_PARAMS) logger.warn({ event: LogEvent.argon2TestParameters }, 'argon2 runs at the test suite\'s cost (NODE_ENV=test, TWOSTEP_TEST_ARGON2=cheap): never in production');
  const opts = { store, masterKey, config, logger, hasher: createArgon2Hasher(argon2) };
  const policy = kicker ? new KickingPolicy(opts, kicker) : new Policy(opts);
  return {
    policy,
    drain: () => kicker?.drain() ?? Promise.resolve([]),
    close: () => store.close(),
  };
}

export interface Running {
  imap: Awaited<ReturnType<typeof startImapServer>>;
  /** Absent when the config has no [pop3] section. */
  pop3?: Awaited<ReturnType<typeof startPop3Server>>;
  /** The web portal, when [portal] is configured. */
  portal?: RunningPortal;
  /** Only when [smtp] is configured. */
  smtp?: Awaited<ReturnType<typeof startSmtpServer>>;
  /** The verify service for Dovecot's Lua passdb, when [dovecot] is configured. */
  verify?: RunningVerifyServer;
  close(): Promise<void>;
}

/** A protocol section's listeners and backend, as its front end takes them. */
function endpoints(
  config: Config,
  section: { listen: HostPort | null; listen_tls: HostPort | null; backend: HostPort; backend_tls: BackendTls },
): { listen: HostPort | null; listenTls: HostPort | null; backend: BackendTarget } {
  return {
    listen: section.listen,
    listenTls: section.listen_tls,
    backend: backendTarget(config, section.backend, section.backend_tls),
  };
}

/**
 * Audit retention and the guessing bounds' old rows: once at start, then every
 * limits.auditPruneIntervalMs; a failure is logged, never fatal.
 */
function startAuditPruner(policy: Policy, logger: Logger): NodeJS.Timeout {
  const prune = () => {
    policy
      .pruneAudit()
      .then(() => policy.pruneGuard())
      .catch((err: unknown) => {
        logger.error({ event: LogEvent.auditPruneFailed, ...logSafeError(err) });
      });
  };
  prune();
  const timer = setInterval(prune, limits.auditPruneIntervalMs);
  timer.unref();
  return timer;
}

/** The composition root of `twostep serve`: config → store → policy → listeners → portal. */
export async function serve(config: Config, logger: Logger): Promise<Running> {
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  const tls = loadTlsFiles(config); // each file problem is one line naming the key and the path
  const tlsFiles = tls.files;
  const secureContext = tls.secureContext;
  const cert = describeCertificate(tls.certificate);
  if (cert.expired) logger.warn({ event: 'tls-cert-expired', path: config.tls.cert }, `tls.cert ${config.tls.cert}: ${cert.text}`);
  const opened = await openPolicy(config, logger);
  // Sessions signed in with an application code, across protocols; the watcher ends those whose
  // code the CLI revoked (or whose account had two-step turned off) in the meantime.
  const registry = new SessionRegistry();
  // Everything started so far, closed in reverse order on a failed start or on close().
  const started: { close(): Promise<void> }[] = [];
  const closeStarted = async () => {
    for (const s of started.splice(0).reverse()) await s.close();
  };
  try {
    // No listener before every backend answered and the master login works (waiting a bounded
    // time for a backend still starting): clients never meet a twostep that cannot log them in.
    await awaitBackends(config, master, logger);
    // What every front end shares; each adds its listeners and backend.
    const common = { authenticator: opened.policy, logger, master, secureContext, allowPlaintext: config.auth.allow_plaintext, registry };
    const imap = await startImapServer({
      ...common,
      ...endpoints(config, config.imap),
      backendSpares: config.imap.backend_spares,
    });
    started.push(imap);
    let pop3: Running['pop3'];
    if (config.pop3) {
      pop3 = await startPop3Server({ ...common, ...endpoints(config, config.pop3) });
      started.push(pop3);
    }
    // The portal's main-password check through a Dovecot that asks twostep (the Lua passdb).
    const passes = config.dovecot ? new PasswordCheckPasses() : undefined;
    let portal: RunningPortal | undefined;
    const p = config.portal;
    if (p) {
      portal = await startPortal({
        policy: opened.policy,
        // The portal's sign-in password goes to the same IMAP backend the proxy uses.
        checker: imapPasswordChecker(endpoints(config, config.imap).backend, logger, passes),
        logger,
        settings: {
          listen: formatHostPort(p.listen), // the portal still takes text (core/host-port.ts)
          ...(p.tls ? { tls: { ...tlsFiles, ...serverTlsOptions(config.tls) } } : {}),
          secureCookies: p.secure_cookies ?? p.tls,
          trustProxy: p.trust_proxy,
          trustedDeviceDays: p.trusted_device_days,
        },
      });
      started.push(portal);
    }
    let smtp: Running['smtp'];
    if (config.smtp) {
      smtp = await startSmtpServer({
        ...common,
        ...endpoints(config, config.smtp),
        backendLogin: config.smtp.backend_login,
      });
      started.push(smtp);
    }
    let verify: RunningVerifyServer | undefined;
    if (config.dovecot) {
      verify = await startDovecotVerify(config.dovecot, opened.policy, logger, passes ?? new PasswordCheckPasses());
      started.push(verify);
    }
    const watcher = startRevocationWatcher({
      registry,
      policy: opened.policy,
      intervalMs: config.auth.revocation_poll_seconds * 1000,
      logger,
    });
    const pruner = startAuditPruner(opened.policy, logger);
    logger.info(
      {
        event: LogEvent.ready,
        backend: formatHostPort(config.imap.backend),
        ...(config.pop3 ? { pop3Backend: formatHostPort(config.pop3.backend) } : {}),
        ...(config.smtp ? { smtpBackend: formatHostPort(config.smtp.backend) } : {}),
        ...(portal ? { portalPort: portal.port } : {}),
        ...(config.dovecot ? { verifySocket: config.dovecot.verify_socket, verifyListen: verify?.address?.port } : {}),
      },
      'twostep ready',
    );
    const running: Running = {
      imap,
      async close() {
        clearInterval(pruner);
        watcher.stop();
        await closeStarted();
        await opened.drain();
        await opened.close();
      },
    };
    if (pop3) running.pop3 = pop3;
    if (smtp) running.smtp = smtp;
    if (portal) running.portal = portal;
    if (verify) running.verify = verify;
    return running;
  } catch (err) {
    // e.g. a port is taken: nothing stays bound, and the error names the key ("imap.listen ...").
    await closeStarted();
    await opened.close();
    throw describeListenError(err, config);
  }
}
