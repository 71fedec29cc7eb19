import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { argon2InFlight, metricSources, setMetricsSink, type StoreQueueStats } from '../core/metrics.js';

/**
 * twostep's Prometheus metrics (src/core/metrics.ts says what feeds them), on their own registry
 * with the process's default ones (open fds, event-loop lag, heap, CPU). Built once per process,
 * when `serve` starts its [metrics] listener.
 */
function build(): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const s = metricSources;

  const logins = new Counter({
    name: 'twostep_logins_total',
    help: 'Login attempts answered, by door (proxy | passdb), protocol and result (ok | fail | delegated); reason: why it failed, or how it passed (passthrough | app-code)',
    labelNames: ['door', 'protocol', 'result', 'reason'] as const,
    registers,
  });
  const loginSeconds = new Histogram({
    name: 'twostep_login_duration_seconds',
    help: 'From the login command to the answer (policy, argon2, backend login; a refusal includes [auth] failure_delay_ms)',
    labelNames: ['door', 'protocol', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20],
    registers,
  });
  const throttled = new Counter({
    name: 'twostep_throttle_refusals_total',
    help: 'Logins refused by the guessing bounds ([auth] ip_failures / user_failures), by protocol',
    labelNames: ['protocol'] as const,
    registers,
  });
  const backendErrors = new Counter({
    name: 'twostep_backend_errors_total',
    help: 'Backend logins that failed for the backend (down, TLS, protocol, master login refused), by backend (imap | pop3 | smtp)',
    labelNames: ['backend'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'twostep_connections_refused_total',
    help: 'Client connections refused before a greeting: per-ip ([limits] max_connections_per_ip), busy (no place after waiting, or out of files), shutdown',
    labelNames: ['protocol', 'reason'] as const,
    registers,
  });
  setMetricsSink({
    login(door, protocol, result, reason, seconds) {
      logins.inc({ door, protocol, result, reason });
      if (reason === 'throttled') throttled.inc({ protocol });
      if (seconds !== undefined) loginSeconds.observe({ door, protocol, result }, seconds);
    },
    backendError: (backend) => backendErrors.inc({ backend }),
    refused: (protocol, reason) => refused.inc({ protocol, reason }),
  });

  const perProtocol = (name: string, help: string, pick: (c: { open: number; loggedIn: number; waiting: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['protocol'] as const,
      registers,
      collect() {
        this.reset();
        for (const [protocol, c] of s().connections?.() ?? []) this.set({ protocol }, pick(c));
      },
    });
  perProtocol('twostep_connections_open', 'Client connections open (logged in or not), by protocol', (c) => c.open);
  perProtocol('twostep_sessions_open', 'Logged-in (proxied) sessions, by protocol', (c) => c.loggedIn);
  perProtocol('twostep_connections_waiting', 'Clients accepted while [limits] max_connections were open, waiting for a place (no greeting yet)', (c) => c.waiting);

  new Gauge({
    name: 'twostep_argon2_in_flight',
    help: 'argon2 hashes and verifications started and not finished (running or waiting for a thread)',
    registers,
    collect() {
      this.set(argon2InFlight());
    },
  });
  new Gauge({
    name: 'twostep_argon2_queued',
    help: "argon2 calls beyond libuv's thread pool size: waiting for a thread (file and DNS work share the pool)",
    registers,
    collect() {
      this.set(Math.max(0, argon2InFlight() - (s().threadPoolSize ?? 4)));
    },
  });

  const storeGauge = (name: string, help: string, read: (q: StoreQueueStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const q = s().store?.();
        if (q) this.set(read(q));
      },
    });
  storeGauge('twostep_store_queue_length', 'Writes waiting in the write-behind queue (audit, Last Used, last seen)', (q) => q.queued);
  storeGauge(
    'twostep_store_queue_oldest_age_seconds',
    'Age of the oldest write waiting in the write-behind queue (0: none waits); grows while another process locks the database',
    (q) => q.oldestAgeMs / 1000,
  );

  /** A counter following a total the store keeps, adding what it grew by since the last scrape. */
  const storeCounter = (name: string, help: string, read: (q: StoreQueueStats) => number) => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const q = s().store?.();
        if (!q) return;
        const now = read(q);
        if (now > seen) this.inc(now - seen);
        seen = now;
      },
    });
  };
  storeCounter('twostep_store_write_failures_total', 'Queued writes given up after a fault other than a lock (each is logged)', (q) => q.failures);
  storeCounter('twostep_store_writes_dropped_total', 'Writes refused because the write-behind queue was full', (q) => q.dropped);
  storeCounter('twostep_store_lock_retries_total', 'Times a write-behind batch found the database locked and waited', (q) => q.retries);
  return registry;
}

let registry: Registry | undefined;

/** The registry (built, and the sink installed, at the first call). */
export function prometheusRegistry(): Registry {
  registry ??= build();
  return registry;
}
