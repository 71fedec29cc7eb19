import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, type HostPort } from '../core/host-port.js';
import { limits } from '../core/limits.js';
import { LogEvent } from '../core/log-events.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Logger } from '../core/logger.js';
import { prometheusRegistry } from './prometheus-metrics.js';
import type { Readiness } from './readiness.js';

export interface RunningMetrics {
  address: AddressInfo;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/**
 * [metrics] listen: GET /metrics (Prometheus text format: twostep's metrics and the process's:
 * open fds, event-loop lag, heap, CPU), /healthz (200 while the process runs) and /readyz (200
 * when every backend greets and the store takes writes, else 503 with what is wrong, as JSON).
 */
export async function startMetricsServer(o: { listen: HostPort; readiness: () => Promise<Readiness>; logger: Logger }): Promise<RunningMetrics> {
  const registry = prometheusRegistry();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', head);
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics':
        return send(res, 200, registry.contentType, await registry.metrics(), head);
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
      case '/readyz': {
        const r = await o.readiness();
        const body = `${JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })}\n`;
        return send(res, r.ready ? 200 : 503, 'application/json', body, head);
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: /metrics, /healthz, /readyz\n', head);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.logger.error({ event: LogEvent.metricsError, path: req.url?.slice(0, 100), ...logSafeError(err) });
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  server.requestTimeout = limits.metricsRequestMs;
  server.headersTimeout = limits.metricsRequestMs;
  server.keepAliveTimeout = limits.portalKeepAliveMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.listen.host, port: o.listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => o.logger.error({ event: LogEvent.metricsError, ...logSafeError(err) }));
  const address = server.address() as AddressInfo;
  o.logger.info({ event: LogEvent.metricsListening, address: formatHostPort({ host: address.address, port: address.port }) }, 'metrics listening');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
