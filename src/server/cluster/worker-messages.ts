import type { Registry } from 'prom-client';
import type { Config } from '../../config/schema.js';
import type { ShutdownSummary } from '../graceful-shutdown.js';
import type { Readiness } from '../readiness.js';

/** What a worker is started with (the supervisor's config: the file as last loaded and checked). */
export interface WorkerStart {
  /** 1..workers; a restarted worker keeps its number (log lines carry it as `worker`). */
  id: number;
  workers: number;
  config: Config;
  /** The file it came from (a reload's lines name it). */
  configPath: string;
  /** The portal's CSRF key for forms shown before sign-in, the same in every worker (base64). */
  csrfKey: string;
  /** TLS session ticket keys, the same in every worker (base64 of 48 bytes). */
  ticketKeys: string;
}

/** Notices from the supervisor to a worker (sent once it asked for its start: it listens by then). */
export interface ToWorker {
  /** SIGHUP, after the supervisor checked the file and the certificates: the file as read. */
  reload: { config: Config };
  /** SIGTERM / SIGINT: the graceful shutdown. */
  shutdown: { signal: string };
  /** The signal again: exit at once. */
  'exit-now': { signal: string };
}

/** Notices from a worker to the supervisor. */
export interface ToSupervisor {
  /** Every listener is bound (through the supervisor). */
  ready: { pid: number };
  /** The start failed; the worker exits next. `code`: a TwostepError's code, when it was one. */
  failed: { code?: string; message: string };
  /** Its graceful shutdown ended; the worker exits next. */
  stopped: ShutdownSummary;
}

export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Questions the supervisor asks a worker. */
export interface WorkerQuestions {
  [k: string]: { q: unknown; a: unknown };
  /** Its Prometheus metrics (registry.getMetricsAsJSON()), for the supervisor to aggregate. */
  metrics: { q: null; a: WorkerMetrics };
  /** Its /readyz checks. */
  readiness: { q: null; a: Readiness };
}

/** Questions a worker asks the supervisor: its start, the portal's one-time passes (shared-passes.ts). */
export interface SupervisorQuestions {
  [k: string]: { q: unknown; a: unknown };
  /**
   * Asked first, once the worker listens on its channel: a notice sent before that (while its
   * modules load) would be lost.
   */
  start: { q: null; a: WorkerStart };
  'pass-issue': { q: { user: string }; a: string };
  'pass-redeem': { q: { user: string; pass: string }; a: boolean };
}
