// Free loopback TCP ports, found by binding port 0 on 127.0.0.1 and closing again.
// Plain JS so that scripts/demo-backend.mjs can use it without a TypeScript step.
import net from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. Another process may take it before
 * you bind it: callers that hand it to a server must retry on EADDRINUSE.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * Several distinct free ports (distinct from each other; still racy against other processes).
 * @param {number} count
 * @param {string} [host]
 * @returns {Promise<number[]>}
 */
export async function freePorts(count, host = '127.0.0.1') {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
