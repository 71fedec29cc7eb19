import { describeCertificate, loadTlsFiles, type TlsFiles } from '../checks/tls-files.js';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { LogEvent } from '../core/log-events.js';
import type { Logger } from '../core/logger.js';
import type { SecureContextHolder } from '../core/secure-context-holder.js';
import { serverTlsOptions } from '../core/server-tls.js';
import type { RunningPortal } from '../portal/portal-server.js';
import type { ConnectionGate } from '../protocols/shared/connection-gate.js';
import { configChanges } from './config-changes.js';
import { applyConnectionBudget } from './connection-budget.js';

/** What a reload changes in the running process. */
export interface ReloadTargets {
  logger: Logger;
  /** The mail listeners' (and STARTTLS's) certificate. */
  secureContext: SecureContextHolder;
  /** The portal, when it serves HTTPS with the [tls] certificate. */
  portal?: RunningPortal;
  gate: ConnectionGate;
  policy: { reconfigure(config: Config): void };
  /** The open-file limit the connection limits are sized from. */
  fdLimit: number | undefined;
  /** [server] workers when this process is one of them (each takes its share of [limits]). */
  workers?: number;
  /** The workers' shared TLS session ticket keys, kept by every new secure context. */
  ticketKeys?: Buffer;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * SIGHUP: reads the config file and the certificates again. Everything is read and checked
 * before anything changes: an invalid config or an unusable certificate keeps the running one
 * (one line saying why, naming the key and the path). Then what can change live does — TLS
 * certificate and key (new connections get them), log level, [limits], the policy's settings —
 * without dropping a session; what cannot (listeners, backends, store, ...) keeps its running
 * value and is named in one warning line. One `reload` line says what changed.
 */
export class Reloader {
  readonly #path: string;
  readonly #t: ReloadTargets;
  #config: Config;
  #fingerprint: string;

  constructor(path: string, running: { config: Config; tls: TlsFiles }, targets: ReloadTargets) {
    this.#path = path;
    this.#t = targets;
    this.#config = running.config;
    this.#fingerprint = running.tls.certificate.fingerprint256;
  }

  /** The config the process runs with now. */
  get config(): Config {
    return this.#config;
  }

  /**
   * One reload; false when the new config was refused (the old one keeps serving). `next`: the
   * file as the supervisor of the workers read and checked it (src/server/cluster), else read here.
   */
  reload(next?: Config): boolean {
    const log = this.#t.logger;
    let changes: ReturnType<typeof configChanges>;
    let tls: TlsFiles;
    try {
      changes = configChanges(this.#config, next ?? loadConfig(this.#path));
      tls = loadTlsFiles(changes.effective, this.#t.ticketKeys);
    } catch (err) {
      log.error({ event: LogEvent.reloadFailed }, `reload refused, the running config stays: ${message(err)}`);
      return false;
    }
    const effective = changes.effective;
    log.level = effective.log.level;
    this.#t.secureContext.replace(tls.secureContext);
    if (effective.portal?.tls) this.#t.portal?.setTls({ ...tls.files, ...serverTlsOptions(effective.tls) });
    applyConnectionBudget(this.#t.gate, effective, this.#t.fdLimit, log, this.#t.workers);
    this.#t.policy.reconfigure(effective);
    this.#config = effective;

    const cert = describeCertificate(tls.certificate);
    const certificateChanged = tls.certificate.fingerprint256 !== this.#fingerprint;
    this.#fingerprint = tls.certificate.fingerprint256;
    if (cert.expired) log.warn({ event: LogEvent.tlsCertExpired, path: effective.tls.cert }, `tls.cert ${effective.tls.cert}: ${cert.text}`);
    if (changes.restart.length > 0) {
      log.warn({ event: LogEvent.reloadRestartNeeded, keys: changes.restart }, `${changes.restart.join(', ')} changed: restart twostep to apply`);
    }
    log.info(
      { event: LogEvent.reload, changed: changes.live, restartNeeded: changes.restart, certificateChanged, certificate: cert.text },
      'config and certificates reloaded',
    );
    return true;
  }
}
