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
  /**
   * SIGKILL node i (a crash on purpose) and wait until it has ended. Throws, with the report, when
   * the node was not running (it died before: waiting for its exit would wait forever).
   */
  kill(i: number): Promise<void>;
  /** Each node: alive, or how it exited; and the tail of its log (for a failed test's message). */
  report(): string;
  stop(): Promise<void>;
}

/** How much of a node's log a report shows. */
const LOG_TAIL_CHARS = 4_000;

function stateOf(n: FleetNode): string {
  const c = n.serve.child;
  if (c.exitCode === null && c.signalCode === null) return `alive (pid ${c.pid})`;
  return `exited (code ${c.exitCode}, signal ${c.signalCode})`;
}

/** The log's last lines, whole (at most LOG_TAIL_CHARS). */
function tailOf(log: string): string {
  if (log.length <= LOG_TAIL_CHARS) return log;
  const tail = log.slice(-LOG_TAIL_CHARS);
  return tail.slice(tail.indexOf('\n') + 1);
}

function nodeReport(n: FleetNode, i: number): string {
  return `--- node ${i} (imap ${n.imapPort}, portal ${n.portalPort}): ${stateOf(n)}; log tail:\n${tailOf(n.serve.log())}`;
}

const reportOf = (nodes: FleetNode[]): string => nodes.map(nodeReport).join('\n');

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
  let stopping = false;
  const killed = new Set<FleetNode>();
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
      const node: FleetNode = { imapPort, portalPort, serve: await startServe(config, 30_000) };
      nodes.push(node);
      // A node that ends before stop() (a crash) says so at once, with its log: a later test
      // that finds it gone only sees a refused connection.
      node.serve.child.once('exit', (code, signal) => {
        if (!stopping && !killed.has(node)) {
          process.stderr.write(`node-fleet: node ${i} exited unexpectedly (code ${code}, signal ${signal})\n${nodeReport(node, i)}\n`);
        }
      });
    }
  } catch (err) {
    for (const n of nodes) await n.serve.stop();
    throw err;
  }
  return {
    nodes,
    configs,
    cli: (i, ...args) => runCli(['--config', configs[i] as string, ...args]),
    report: () => reportOf(nodes),
    async kill(i) {
      const node = nodes[i] as FleetNode;
      const c = node.serve.child;
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`node ${i} was not running before the kill:\n${reportOf(nodes)}`);
      killed.add(node);
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    },
    async stop() {
      stopping = true;
      for (const n of nodes) await n.serve.stop();
    },
  };
}

/** HAProxy in front of the fleet's IMAP listeners, sending the PROXY header (v1 or v2) from 127.0.0.2. */
export function haproxyFor(fleet: NodeFleet, proxy: 'v1' | 'v2'): Promise<HaproxyInstance> {
  return startHaproxy({ services: [{ name: 'imap', servers: fleet.nodes.map((n) => n.imapPort) }], proxy, source: '127.0.0.2' });
}
