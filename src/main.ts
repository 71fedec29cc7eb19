import { awaitBackends } from './checks/backend-checks.js';
import { describeListenError } from './checks/listen-error.js';
import { describeCertificate, loadTlsFiles } from './checks/tls-files.js';
import { clientSettings } from './config/client-settings.js';
import type { Config } from './config/schema.js';
import { readMasterPassword } from './config/runtime-config.js';
import { formatHostPort } from './core/host-port.js';
import { LogEvent } from './core/log-events.js';
import { logSafeError } from './core/log-safe-error.js';
import { setMetricSources } from './core/metrics.js';
import { openFileLimit } from './core/open-files.js';
import { SecureContextHolder } from './core/secure-context-holder.js';
import { serverTlsOptions } from './core/server-tls.js';
import type { Logger } from './core/logger.js';
import { defaultExpiryDays } from './policy/index.js';
import { startNoticeSender, type NoticeSender } from './notify/notice-sender.js';
import { noticeTarget } from './notify/notice-target.js';
import { startImapServer } from './protocols/imap/imap-server.js';
import { startPop3Server } from './protocols/pop3/pop3-server.js';
import { startSmtpServer } from './protocols/smtp/smtp-server.js';
import { ConnectionGate } from './protocols/shared/connection-gate.js';
import type { FrontEnd } from './protocols/shared/front-end-server.js';
import { startRevocationWatcher } from './protocols/shared/revocation-watcher.js';
import { SessionRegistry } from './protocols/shared/session-registry.js';
import { imapPasswordChecker } from './portal/imap-password-checker.js';
import { startPortal, type RunningPortal } from './portal/portal-server.js';
import { startAuditPruner } from './server/audit-pruner.js';
import { openPolicy, type OpenedPolicy } from './server/open-policy.js';
import { sizeConnectionLimits } from './server/connection-budget.js';
import { endpoints, proxyProtocolGate } from './server/front-end-settings.js';
import { gracefulShutdown, type ShutdownSummary } from './server/graceful-shutdown.js';
import type { RunningMetrics } from './server/metrics-server.js';
import { ReadinessCheck } from './server/readiness.js';
import { Reloader } from './server/reloader.js';
import { PasswordCheckPasses, type PasswordPasses } from './verify/password-check-passes.js';
import { startDovecotVerify, type RunningVerifyServer } from './verify/start-dovecot-verify.js';

export { openPolicy, type OpenedPolicy };

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
  /** /metrics, /healthz, /readyz, when [metrics] is configured (in the supervisor, with workers). */
  metrics?: RunningMetrics;
  /** /readyz's checks, when [metrics] is configured (a worker answers the supervisor with them). */
  readiness?: ReadinessCheck;
  /** The connection limits the mail front ends share. */
  gate: ConnectionGate;
  /**
   * SIGHUP: the config file and certificates read again (src/server/reloader.ts); false: refused,
   * the old ones stay. `next`: the file as the supervisor of the workers read it.
   */
  reload(next?: Config): boolean;
  /** SIGTERM / SIGINT: goodbyes, then exit within [server] shutdown_grace_seconds (src/server/graceful-shutdown.ts). */
  shutdown(signal: string): Promise<ShutdownSummary>;
  /** [server] shutdown_grace_seconds in ms, as the last reload left it. */
  graceMs(): number;
  /** The sender of mail notices to users, when [notify] is configured. */
  notices?: NoticeSender;
  /** Everything closed at once, without a word (tests, a failed start). */
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The config file `config` came from: reload() reads it again. Absent: reload() refuses. */
  configPath?: string;
  /** This process is one of [server] workers (src/server/cluster/worker-main.ts). */
  worker?: WorkerRole;
}

/**
 * A worker's part: the supervisor ran the start-up checks (backends, certificate) and holds the
 * metrics listener; the worker takes its share of [limits], runs the portal and prunes the audit
 * only as worker 1, leaves the verify socket file to the supervisor, and shares the portal's
 * CSRF key (a form outlives a worker's restart) and password-check passes (Dovecot's question
 * about a portal sign-in may reach any worker's verify service).
 */
export interface WorkerRole {
  id: number;
  workers: number;
  csrfKey: Buffer;
  passes: PasswordPasses;
  /** TLS session ticket keys (48 bytes), the same in every worker: a ticket resumes at any of them. */
  ticketKeys: Buffer;
}

/** The composition root of `twostep serve`: config → store → policy → listeners → portal. */
export async function serve(config: Config, logger: Logger, options: ServeOptions = {}): Promise<Running> {
  const worker = options.worker;
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  // [notify]'s CA and password files are read now: a missing one stops the start, naming its key.
  const noticeServer = config.notify ? noticeTarget(config.notify) : undefined;
  const tls = loadTlsFiles(config, worker?.ticketKeys); // each file problem is one line naming the key and the path
  const tlsFiles = tls.files;
  // Read by every handshake: a reload swaps the certificate for the connections after it.
  const secureContext = new SecureContextHolder(tls.secureContext);
  const cert = describeCertificate(tls.certificate);
  if (cert.expired && !worker) logger.warn({ event: LogEvent.tlsCertExpired, path: config.tls.cert }, `tls.cert ${config.tls.cert}: ${cert.text}`);
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
    // (With workers the supervisor did, once.)
    if (!worker) await awaitBackends(config, master, logger);
    const fdLimit = openFileLimit();
    const gate = new ConnectionGate(sizeConnectionLimits(config, fdLimit, logger, undefined, worker?.workers), logger);
    const threadPoolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    setMetricSources({ connections: () => gate.counts(), store: () => opened.store.stats(), threadPoolSize });
    // Before the first client, so every login is counted. Loaded only when on: the CLI stays quick.
    let metrics: RunningMetrics | undefined;
    let readiness: ReadinessCheck | undefined;
    if (config.metrics) {
      const check = (readiness = new ReadinessCheck(config, opened.store));
      if (worker) {
        // The supervisor listens, and asks each worker for its numbers and checks.
        (await import('./server/prometheus-metrics.js')).prometheusRegistry();
      } else {
        const { startMetricsServer } = await import('./server/metrics-server.js');
        metrics = await startMetricsServer({ listen: config.metrics.listen, readiness: () => check.check(), logger });
        started.push(metrics);
      }
    }
    // What every front end shares; each adds its listeners and backend.
    const common = {
      authenticator: opened.policy,
      logger,
      master,
      secureContext,
      allowPlaintext: config.auth.allow_plaintext,
      registry,
      gate,
      proxyProtocol: proxyProtocolGate(config, logger),
    };
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
    const passes = config.dovecot ? (worker?.passes ?? new PasswordCheckPasses()) : undefined;
    let portal: RunningPortal | undefined;
    const p = config.portal;
    const clients = clientSettings(config);
    // With workers, the portal lives in worker 1 alone: its pages keep some state in memory (the
    // profile offered after "Add Application Code" waits there for its download).
    if (p && (!worker || worker.id === 1)) {
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
          ...(worker ? { csrfKey: worker.csrfKey } : {}),
          expiry: { defaultDays: defaultExpiryDays(config.codes), maxDays: config.codes.max_expiry_days },
          ...(clients ? { clients } : {}),
          ...(clients?.signProfiles ? { profileSigning: { cert: config.tls.cert, key: config.tls.key } } : {}),
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
      verify = await startDovecotVerify(config.dovecot, opened.policy, logger, passes ?? new PasswordCheckPasses(), worker !== undefined);
      started.push(verify);
    }
    // Mails to users about their account: queued by every process, sent from here (off the login path).
    let notices: NoticeSender | undefined;
    if (config.notify && noticeServer && p?.public_url) {
      const recipientDomain = config.notify.recipient_domain ?? clients?.domains[0];
      notices = startNoticeSender({
        queue: opened.policy.notices,
        target: noticeServer,
        from: config.notify.from,
        portalUrl: p.public_url,
        logger,
        ...(recipientDomain ? { recipientDomain } : {}),
      });
      started.push(notices);
    }
    const watcher = startRevocationWatcher({
      registry,
      policy: opened.policy,
      intervalMs: config.auth.revocation_poll_seconds * 1000,
      logger,
    });
    // Once per server: with workers, worker 1 prunes (and its replacement, should it die).
    const pruner = !worker || worker.id === 1 ? startAuditPruner(opened.policy, logger) : undefined;
    const reloader = options.configPath
      ? new Reloader(
          options.configPath,
          { config, tls },
          { logger, secureContext, gate, policy: opened.policy, fdLimit, ...(portal ? { portal } : {}), ...(worker ? { workers: worker.workers, ticketKeys: worker.ticketKeys } : {}) },
        )
      : undefined;
    const frontEnds = [imap, pop3, smtp].filter((f): f is FrontEnd => f !== undefined);
    logger.info(
      {
        event: worker ? LogEvent.workerReady : LogEvent.ready,
        backend: formatHostPort(config.imap.backend),
        ...(config.pop3 ? { pop3Backend: formatHostPort(config.pop3.backend) } : {}),
        ...(config.smtp ? { smtpBackend: formatHostPort(config.smtp.backend) } : {}),
        ...(portal ? { portalPort: portal.port } : {}),
        ...(config.dovecot ? { verifySocket: config.dovecot.verify_socket, verifyListen: verify?.address?.port } : {}),
        ...(metrics ? { metricsPort: metrics.address.port } : {}),
      },
      worker ? 'worker ready' : 'twostep ready',
    );
    const running: Running = {
      imap,
      gate,
      reload: (next) => {
        try {
          if (reloader) return reloader.reload(next);
          logger.error({ event: LogEvent.reloadFailed }, 'reload refused: serve was started without a config file');
        } catch (err) {
          logger.error({ event: LogEvent.reloadFailed, ...logSafeError(err) }, 'reload failed part way');
        }
        return false;
      },
      graceMs: () => (reloader?.config ?? config).server.shutdown_grace_seconds * 1000,
      shutdown: (signal) =>
        gracefulShutdown(
          {
            frontEnds,
            gate,
            ...(readiness ? { readiness } : {}),
            stopAtOnce: [() => clearInterval(pruner), () => watcher.stop(), ...[portal, verify].map((s) => () => s?.close())],
            store: {
              queued: () => opened.store.stats().queued,
              flush: (ms) => opened.store.flush(ms),
              drain: () => opened.drain(),
              close: (ms) => opened.close(ms),
            },
            stopLast: [() => metrics?.close()],
          },
          { graceMs: running.graceMs(), signal, logger, ...(worker ? { event: LogEvent.workerStopped } : {}) },
        ),
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
    if (metrics) running.metrics = metrics;
    if (readiness) running.readiness = readiness;
    if (notices) running.notices = notices;
    return running;
  } catch (err) {
    // e.g. a port is taken: nothing stays bound, and the error names the key ("imap.listen ...").
    await closeStarted();
    await opened.close();
    throw describeListenError(err, config);
  }
}
