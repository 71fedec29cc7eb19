import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { Config } from '../config/schema.js';
import { formatHostPort, type HostPort } from '../core/host-port.js';
import type { TwostepSide } from './finding.js';
import { isLoopbackHost, LOOPBACK } from './networks.js';

/**
 * twostep's side of the checks, from its configuration: the addresses it connects to Dovecot
 * and Postfix from (loopback when the backends are local; else the local address the system
 * routes to each backend by), and where its verify service listens. Without a configuration:
 * twostep on this host (loopback) and the shipped defaults.
 */
export async function twostepSide(config: Config | null): Promise<TwostepSide> {
  if (!config) return { addresses: [...LOOPBACK], verifySocket: '/run/twostep/verify.sock', verifyListen: '' };
  const backends = [config.imap.backend, config.pop3?.backend, config.smtp?.backend].filter((b): b is HostPort => b !== undefined);
  const addresses = new Set<string>();
  for (const { host, port } of backends) {
    if (isLoopbackHost(host)) {
      for (const a of LOOPBACK) addresses.add(a);
    } else {
      const local = await localAddressTowards(host, port);
      if (local) addresses.add(local);
    }
  }
  if (addresses.size === 0) for (const a of LOOPBACK) addresses.add(a);
  return {
    addresses: [...addresses],
    verifySocket: config.dovecot?.verify_socket ?? '',
    verifyListen: config.dovecot?.verify_listen ? formatHostPort(config.dovecot.verify_listen) : '',
  };
}

/** The source address the kernel picks for `host` (a UDP "connect" sends nothing). */
async function localAddressTowards(host: string, port: number): Promise<string | null> {
  try {
    const { address, family } = await lookup(host);
    const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.connect(port, address, () => resolve());
      });
      return sock.address().address;
    } finally {
      sock.close();
    }
  } catch {
    return null;
  }
}
