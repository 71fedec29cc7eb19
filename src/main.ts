import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Config } from './config/schema.js';
import { backendTarget, readFileOrConfigError, readMasterPassword, secretKeyPath } from './config/runtime-config.js';
import { limits } from './core/limits.js';
import type { Logger } from './core/logger.js';
import { loadOrCreateKeyFile } from './crypto/index.js';
import { Policy } from './policy/index.js';
import { startImapServer } from './protocols/imap/imap-server.js';
import { startRevocationWatcher } from './protocols/shared/revocation-watcher.js';
import { SessionRegistry } from './protocols/shared/session-registry.js';
import { openStore } from './store/index.js';

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
  close(): Promise<void>;
}

/** Audit retention: once at start, then every limits.auditPruneIntervalMs; a failure is logged, never fatal. */
function startAuditPruner(policy: Policy, logger: Logger): NodeJS.Timeout {
  const prune = () => {
    try {
      policy.pruneAudit();
    } catch (err) {
      logger.error({ event: 'audit-prune-failed', err: err instanceof Error ? err.message : String(err) });
    }
  };
  prune();
  const timer = setInterval(prune, limits.auditPruneIntervalMs);
  timer.unref();
  return timer;
}

/** The composition root of `twostep serve`: config → store → policy → listeners. */
export async function serve(config: Config, logger: Logger): Promise<Running> {
  const master = { user: config.backend.master_user, password: readMasterPassword(config) };
  const secureContext = createSecureContext({
    cert: readFileOrConfigError('tls.cert', config.tls.cert),
    key: readFileOrConfigError('tls.key', config.tls.key),
  });
  const opened = openPolicy(config, logger);
  // Sessions signed in with an application code, across protocols; the watcher ends those whose
  // code the CLI revoked (or whose account had two-step turned off) in the meantime.
  const registry = new SessionRegistry();
  try {
    const imap = await startImapServer({
      authenticator: opened.policy,
      logger,
      listen: config.imap.listen ?? '',
      listenTls: config.imap.listen_tls ?? '',
      backend: backendTarget(config, config.imap.backend),
      master,
      secureContext,
      allowPlaintext: config.auth.allow_plaintext,
      registry,
    });
    const watcher = startRevocationWatcher({
      registry,
      policy: opened.policy,
      intervalMs: config.auth.revocation_poll_seconds * 1000,
      logger,
    });
    const pruner = startAuditPruner(opened.policy, logger);
    logger.info({ event: 'ready', backend: config.imap.backend }, 'twostep ready');
    return {
      imap,
      async close() {
        clearInterval(pruner);
        watcher.stop();
        await imap.close();
        opened.close();
      },
    };
  } catch (err) {
    opened.close();
    throw err;
  }
}
