/**
 * What the hot path tells the metrics: a login answered, a backend error, a refused connection,
 * argon2 running. Without [metrics] these go nowhere (no Prometheus library is even loaded: the
 * CLI stays quick); `serve` with [metrics] installs the Prometheus sink
 * (src/server/prometheus-metrics.ts), which also reads the states below when scraped. Labels are
 * closed sets (protocol, result, reason, backend): never a user name or an address.
 */

/** A login's way in: the proxy's own front ends, or Dovecot's Lua passdb asking the verify service. */
export type Door = 'proxy' | 'passdb';

export interface MetricsSink {
  /** result: ok | fail | delegated (left to Dovecot's passdb); reason: why it failed, or how it passed. */
  login(door: Door, protocol: string, result: 'ok' | 'fail' | 'delegated', reason: string, seconds?: number): void;
  backendError(backend: string): void;
  refused(protocol: string, reason: string): void;
}

/** The write-behind queue's counters (the store's WriteBehindStats). */
export interface StoreQueueStats {
  queued: number;
  oldestAgeMs: number;
  failures: number;
  dropped: number;
  retries: number;
}

/** States read at scrape time; `serve` sets them. */
export interface MetricSources {
  /** Client connections per protocol: all open, logged in (proxying), waiting for a place. */
  connections?(): Iterable<[string, { open: number; loggedIn: number; waiting: number }]>;
  store?(): StoreQueueStats;
  /** Threads of libuv's pool (UV_THREADPOOL_SIZE), where argon2 runs. */
  threadPoolSize?: number;
}

const nowhere: MetricsSink = { login() {}, backendError() {}, refused() {} };
let sink: MetricsSink = nowhere;
let sources: MetricSources = {};
let argon2Running = 0;

export function setMetricsSink(s: MetricsSink): void {
  sink = s;
}

export function setMetricSources(s: MetricSources): void {
  sources = s;
}

export function metricSources(): MetricSources {
  return sources;
}

/** argon2 hashes and verifications started and not finished. */
export function argon2InFlight(): number {
  return argon2Running;
}

/** The calls the hot path makes. */
export const metrics = {
  login: (door: Door, protocol: string, result: 'ok' | 'fail' | 'delegated', reason: string, seconds?: number): void =>
    sink.login(door, protocol, result, reason, seconds),
  backendError: (backend: string): void => sink.backendError(backend),
  refused: (protocol: string, reason: string): void => sink.refused(protocol, reason),
  argon2Started(): void {
    argon2Running++;
  },
  argon2Finished(): void {
    argon2Running--;
  },
};
