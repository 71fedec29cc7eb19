import type { Config } from '../config/schema.js';
import { TwostepError } from '../core/errors.js';
import { formatHostPort, type HostPort } from '../core/host-port.js';

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE: docs/service.md)',
  EADDRNOTAVAIL: 'no such address on this machine',
};

/** Every listener key of the config and its address: "imap.listen" → 127.0.0.1:1143. */
function listenKeys(config: Config): [string, HostPort][] {
  const keys: [string, HostPort][] = [];
  for (const name of ['imap', 'pop3', 'smtp'] as const) {
    const s = config[name];
    if (!s) continue;
    if (s.listen) keys.push([`${name}.listen`, s.listen]);
    if (s.listen_tls) keys.push([`${name}.listen_tls`, s.listen_tls]);
  }
  if (config.portal) keys.push(['portal.listen', config.portal.listen]);
  if (config.metrics) keys.push(['metrics.listen', config.metrics.listen]);
  return keys;
}

/**
 * A listener that could not bind, as one config line with exit code 2: "imap.listen
 * 127.0.0.1:1143: address already in use". Other errors pass unchanged.
 */
export function describeListenError(err: unknown, config: Config): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const why = e?.code ? WHY[e.code] : undefined;
  if (!why || e.syscall !== 'listen' || typeof e.port !== 'number') return err;
  const matches = listenKeys(config).filter(([, a]) => a.port === e.port);
  const [key, address] = matches.find(([, a]) => a.host === e.address) ?? matches[0] ?? ['listen', { host: e.address ?? '', port: e.port }];
  return new TwostepError('CONFIG_INVALID', `${key} ${formatHostPort(address)}: ${why}`, { cause: err });
}
