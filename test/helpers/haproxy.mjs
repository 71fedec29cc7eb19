// A private HAProxy (Debian's `haproxy`) in TCP mode in front of several twostep nodes, for the
// several-nodes tests and the bench: one frontend per service, round robin over the nodes, the
// PROXY protocol to them (v1 or v2) from a source address of its own, stopped by its pid.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { findSbinBinary, forgetOnExit, isAlive, sleep, stopOnExit } from './daemon-tools.mjs';
import { freePort } from './ports.mjs';

/**
 * @param {{ services: { name: string, servers: number[] }[], proxy: 'v1' | 'v2' | false, source?: string }} o
 */
export async function startHaproxy(o) {
  const bin = findSbinBinary('haproxy');
  if (!bin) throw new Error('HAProxy not installed (apt-get install haproxy)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-haproxy-'));
  const ports = {};
  const send = o.proxy === 'v1' ? ' send-proxy' : o.proxy === 'v2' ? ' send-proxy-v2' : '';
  const source = o.source ? ` source ${o.source}` : '';
  const lines = [
    'global',
    '  maxconn 2000',
    `  pidfile ${path.join(dir, 'haproxy.pid')}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30m',
    '  timeout server 30m',
    // A node that is down (connection refused) costs a retry on the next one, not the client's login.
    '  retries 3',
    '  option redispatch 1',
  ];
  for (const s of o.services) {
    ports[s.name] = await freePort();
    lines.push(`frontend ${s.name}`, `  bind 127.0.0.1:${ports[s.name]}`, `  default_backend ${s.name}_nodes`);
    lines.push(`backend ${s.name}_nodes`, '  balance roundrobin');
    s.servers.forEach((port, i) => lines.push(`  server node${i} 127.0.0.1:${port}${send}${source}`));
  }
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, `${lines.join('\n')}\n`);
  const log = fs.openSync(path.join(dir, 'haproxy.log'), 'a');
  const child = spawn(bin, ['-f', cfg, '-db'], { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  child.unref();
  const handle = { emergencyStop: () => isAlive(child.pid) && process.kill(child.pid, 'SIGKILL') };
  stopOnExit(handle);
  const first = ports[o.services[0].name];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: first }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (!isAlive(child.pid) || Date.now() > deadline) throw new Error(`haproxy did not start: ${fs.readFileSync(path.join(dir, 'haproxy.log'), 'utf8')}`);
    await sleep(50);
  }
  return {
    ports,
    pid: child.pid,
    async stop() {
      if (isAlive(child.pid)) process.kill(child.pid, 'SIGTERM');
      for (let i = 0; i < 200 && isAlive(child.pid); i++) await sleep(25);
      if (isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
      forgetOnExit(handle);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
