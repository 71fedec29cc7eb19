import { join } from 'node:path';
import type { DovecotInstance } from './dovecot.js';
import { startHaproxy, type HaproxyInstance } from './haproxy.mjs';
import { freePort } from './ports.js';
import { makeTestCert } from './tls.js';
import { writeTestConfig } from './twostep-config.js';
import { runCli, startServe, type CliResult, type ServeProcess } from './twostep-process.js';

export interface FleetNode {
  imapPort: number;
  portalPort: number;
  serve: ServeProcess;
}

export interface NodeFleet {
  nodes: FleetNode[];
  /** Each node's config file (the same [store] url and key file). */
  configs: string[];
  /** The CLI with node i's config. */
  cli(i: number, ...args: string[]): Promise<CliResult>;
  stop(): Promise<void>;
}

/**
 * Several `twostep serve` nodes on one PostgreSQL database in front of one Dovecot: IMAP (plain,
 * plaintext logins allowed) and the portal on each, the same key file, revocation polled only
 * once an hour (what reaches the other node at once is PostgreSQL's notice), ip_failures 20.
 * Started one after the other (the first creates the key file).
 */
export async function startFleet(o: {
  dir: string;
  url: string;
  dovecot: DovecotInstance;
  nodes: number;
  proxyProtocolFrom?: string[];
}): Promise<NodeFleet> {
  const cert = makeTestCert(o.dir);
  const nodes: FleetNode[] = [];
  const configs: string[] = [];
  try {
    for (let i = 0; i < o.nodes; i++) {
      const [imapPort, portalPort] = [await freePort(), await freePort()];
      const config = writeTestConfig({
        dir: o.dir,
        fileName: `node${i}.toml`,
        cert,
        backendImapPort: o.dovecot.imapPort,
        listen: `127.0.0.1:${imapPort}`,
        listenTls: '',
        auth: { allow_plaintext: true, revocation_poll_seconds: 3600, ip_failures: 20 },
        portal: { listen: `127.0.0.1:${portalPort}` },
        store: { url: o.url, secretKeyFile: join(o.dir, 'secret.key') },
        ...(o.proxyProtocolFrom ? { proxyProtocolFrom: o.proxyProtocolFrom } : {}),
      });
      configs.push(config);
      nodes.push({ imapPort, portalPort, serve: await startServe(config, 30_000) });
    }
  } catch (err) {
    for (const n of nodes) await n.serve.stop();
    throw err;
  }
  return {
    nodes,
    configs,
    cli: (i, ...args) => runCli(['--config', configs[i] as string, ...args]),
    async stop() {
      for (const n of nodes) await n.serve.stop();
    },
  };
}

/** HAProxy in front of the fleet's IMAP listeners, sending the PROXY header (v1 or v2) from 127.0.0.2. */
export function haproxyFor(fleet: NodeFleet, proxy: 'v1' | 'v2'): Promise<HaproxyInstance> {
  return startHaproxy({ services: [{ name: 'imap', servers: fleet.nodes.map((n) => n.imapPort) }], proxy, source: '127.0.0.2' });
}
