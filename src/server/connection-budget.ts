import type { Config } from '../config/schema.js';
import { limits } from '../core/limits.js';
import { LogEvent } from '../core/log-events.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionGate, ConnectionLimits } from '../protocols/shared/connection-gate.js';

/** The connection limits in effect, and why they differ from the config where they do. */
export interface ConnectionBudget {
  limits: ConnectionLimits;
  /** The open-file limit they were sized from (undefined: unknown or unlimited). */
  fdLimit: number | undefined;
  /** One line per configured value that did not fit and was lowered (logged as a warning). */
  lowered: string[];
}

/** Files kept for everything but client connections and their backend connections. */
export function reservedFiles(config: Config): number {
  return (
    limits.fdReserveBase +
    limits.fdReserveRefusals +
    (config.portal ? limits.fdReservePortal : 0) +
    (config.dovecot ? limits.verifyMaxConnections : 0) +
    (config.metrics ? limits.fdReserveMetrics : 0) +
    config.imap.backend_spares +
    (config.smtp ? 1 : 0) // the EHLO probe
  );
}

/**
 * [limits] sized to the open-file limit: each proxied session holds two files (client and
 * backend), and the rest of the process (reservedFiles) and the clients waiting for a place keep
 * theirs. Unset values take what fits (max_connections) or the default (per IP); configured
 * values that do not fit are lowered, with a line saying so. Never below 1.
 */
export function connectionBudget(config: Config, fdLimit: number | undefined): ConnectionBudget {
  const lowered: string[] = [];
  const configured = config.limits;
  let fit: number;
  let maxWaiting: number;
  if (fdLimit === undefined) {
    fit = configured.max_connections ?? limits.maxConnectionsUnknownFds;
    maxWaiting = limits.connectionWaitMax;
  } else {
    const forClients = Math.max(0, fdLimit - reservedFiles(config));
    maxWaiting = Math.max(1, Math.min(limits.connectionWaitMax, Math.floor(forClients / 8)));
    fit = Math.max(1, Math.floor((forClients - maxWaiting) / limits.fdsPerSession));
  }
  let maxConnections = configured.max_connections ?? fit;
  if (maxConnections > fit) {
    lowered.push(
      `limits.max_connections ${maxConnections} does not fit the open-file limit ${fdLimit} ` +
        `(${limits.fdsPerSession} files per session, ${fdLimit === undefined ? 0 : reservedFiles(config)} kept for the rest): ` +
        `using ${fit}; raise LimitNOFILE= (systemd) or ulimit -n`,
    );
    maxConnections = fit;
  }
  let maxPerIp = configured.max_connections_per_ip ?? limits.maxConnectionsPerIpDefault;
  if (maxPerIp > maxConnections) {
    if (configured.max_connections_per_ip !== undefined) {
      lowered.push(`limits.max_connections_per_ip ${maxPerIp} is above max_connections: using ${maxConnections}`);
    }
    maxPerIp = maxConnections;
  }
  return { limits: { maxConnections, maxPerIp, maxWaiting }, fdLimit, lowered };
}

/**
 * Sizes the limits for `config` and says so: a warning per lowered value, and one `limits.set`
 * line when they differ from `current` (always at start). Returns them.
 */
export function sizeConnectionLimits(config: Config, fdLimit: number | undefined, log: Logger, current?: ConnectionLimits): ConnectionLimits {
  const budget = connectionBudget(config, fdLimit);
  for (const line of budget.lowered) log.warn({ event: LogEvent.limitsLowered }, line);
  const l = budget.limits;
  if (!current || current.maxConnections !== l.maxConnections || current.maxPerIp !== l.maxPerIp || current.maxWaiting !== l.maxWaiting) {
    log.info(
      { event: LogEvent.limitsSet, maxConnections: l.maxConnections, maxConnectionsPerIp: l.maxPerIp, maxWaiting: l.maxWaiting, fdLimit: fdLimit ?? null },
      `connection limits: ${l.maxConnections} clients, ${l.maxPerIp} not logged in per address (open-file limit ${fdLimit ?? 'unknown'})`,
    );
  }
  return l;
}

/** A reload's [limits]: sized again (the fd limit stays what it was at start) and given to the gate. */
export function applyConnectionBudget(gate: ConnectionGate, config: Config, fdLimit: number | undefined, log: Logger): void {
  gate.setLimits(sizeConnectionLimits(config, fdLimit, log, gate.limits));
}
