import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { BackendTls, Config } from './config/schema.js';
import { backendTarget, type BackendTarget, readFileOrConfigError, readMasterPassword, secretKeyPath } from './config/runtime-config.js';
import { formatHostPort, type HostPort } from './core/host-port.js';
import { limits } from './core/limits.js';
import { LogEvent } from './core/log-events.js';
import { logSafeError } from './core/log-safe-error.js';
import type { Logger } from './core/logger.js';
import { loadOrCreateKeyFile } from './crypto/index.js';
import { Policy } from './policy/index.js';
import { startImapServer } from './protocols/imap/imap-server.js';
import { startPop3Server } from './protocols/pop3/pop3-server.js';
import { startSmtpServer } from './protocols/smtp/smtp-server.js';
import { startRevocationWatcher } from './protocols/shared/revocation-watcher.js';
import { SessionRegistry } from './protocols/shared/session-registry.js';
import { openStore } from './store/index.js';
import { imapPasswordChecker } from './portal/imap-password-checker.js';
import { startPortal, type RunningPortal } from './portal/portal-server.js';

export interface OpenedPolicy {
  policy: Policy;
  close(): void;
}

/** Composition of config → key file → store → policy, shared by `serve` and the admin commands. */
export function openPolicy(config: Config, logger: Logger): OpenedPolicy {
  mkdirSync(dirname(config.store.path), { recursive: true });
  const masterKey = loadOrCreateKeyFile(secretKeyPath(config));
  const store = openStore(config.store.path);
  const policy = new Policy({ store, masterKey, config, logger });
  return {
    policy,
    close: () => {
      policy.flush(); // Last Used of the latest logins
      store.close();
    },
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

/** Audit retention: once at start, then every limits.auditPruneIntervalMs; a failure is logged, never fatal. */
function startAuditPruner(policy: Policy, logger: Logger): NodeJS.Timeout {
  const prune = () => {
    try {
      policy.pruneAudit();
    } catch (err) {
      logger.error({ event: LogEvent.auditPruneFailed, ...logSafeError(err) });
    }
  };
  prune();
  const timer = setInterval(prune, limits.auditPruneIntervalMs);
  timer.unref();
  return timer;
}

/** The composition root of `twostep serve`: config → store → policy → listeners → portal. */
export async function serve(config: Config, logger: Logger): Promise<Running> {
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  const tlsFiles = {
    cert: readFileOrConfigError('tls.cert', config.tls.cert),
    key: readFileOrConfigError('tls.key', config.tls.key),
  };
  const secureContext = createSecureContext(tlsFiles);
  const opened = openPolicy(config, logger);
  // Sessions signed in with an application code, across protocols; the watcher ends those whose
  // code the CLI revoked (or whose account had two-step turned off) in the meantime.
  const registry = new SessionRegistry();
  // Everything started so far, closed in reverse order on a failed start or on close().
  const started: { close(): Promise<void> }[] = [];
  const closeStarted = async () => {
    for (const s of started.splice(0).reverse()) await s.close();
  };
  try {
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
    let portal: RunningPortal | undefined;
    const p = config.portal;
    if (p) {
      portal = await startPortal({
        policy: opened.policy,
        // The portal's sign-in password goes to the same IMAP backend the proxy uses.
        checker: imapPasswordChecker(endpoints(config, config.imap).backend, logger),
        logger,
        settings: {
          listen: formatHostPort(p.listen), // the portal still takes text (core/host-port.ts)
          ...(p.tls ? { tls: tlsFiles } : {}),
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
      },
      'twostep ready',
    );
    const running: Running = {
      imap,
      async close() {
        clearInterval(pruner);
        watcher.stop();
        await closeStarted();
        opened.close();
      },
    };
    if (pop3) running.pop3 = pop3;
    if (smtp) running.smtp = smtp;
    if (portal) running.portal = portal;
    return running;
  } catch (err) {
    // e.g. a port is taken: nothing stays bound.
    await closeStarted();
    opened.close();
    throw err;
  }
}
