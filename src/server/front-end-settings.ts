import { backendTarget, type BackendTarget } from '../config/runtime-config.js';
import type { BackendTls, Config } from '../config/schema.js';
import { AddressList } from '../core/address-list.js';
import type { HostPort } from '../core/host-port.js';
import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import { ProxyProtocolGate } from '../protocols/shared/proxy-protocol.js';

/** A protocol section's listeners and backend, as its front end takes them. */
export function endpoints(
  config: Config,
  section: { listen: HostPort | null; listen_tls: HostPort | null; backend: HostPort; backend_tls: BackendTls },
): { listen: HostPort | null; listenTls: HostPort | null; backend: BackendTarget } {
  return {
    listen: section.listen,
    listenTls: section.listen_tls,
    backend: backendTarget(config, section.backend, section.backend_tls),
  };
}

/** [server] proxy_protocol_from: the balancers whose connections start with a PROXY header; none: off. */
export function proxyProtocolGate(config: Config, logger: Logger): ProxyProtocolGate | undefined {
  const from = config.server.proxy_protocol_from;
  if (from.length === 0) return undefined;
  return new ProxyProtocolGate({ from: new AddressList(from), logger, timeoutMs: limits.proxyHeaderMs, maxBytes: limits.proxyHeaderMaxBytes });
}
