import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { MetricsText } from '../metrics-server.js';
import type { Readiness } from '../readiness.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * /metrics with [server] workers: the supervisor asks every listening worker for its numbers and
 * adds them up (prom-client's AggregatorRegistry: counters, histograms and most gauges sum; each
 * metric may name another way, e.g. the store queue's oldest age is the oldest of all), then its
 * own two: workers listening, and workers started again after one died.
 */
export function clusterMetrics(pool: Pick<WorkerPool, 'askAll' | 'ready' | 'restarts'>, workers: number): MetricsText {
  const own = new Registry();
  new Gauge({
    name: 'twostep_workers',
    help: `Worker processes listening (of [server] workers = ${workers}); fewer: one died and is being started again`,
    registers: [own],
    collect() {
      this.set(pool.ready);
    },
  });
  let seen = 0;
  new Counter({
    name: 'twostep_worker_restarts_total',
    help: 'Workers started again after one died (each is logged as worker.exited)',
    registers: [own],
    collect() {
      if (pool.restarts > seen) this.inc(pool.restarts - seen);
      seen = pool.restarts;
    },
  });
  return {
    contentType: own.contentType,
    async metrics() {
      const answers = await pool.askAll('metrics');
      const merged = AggregatorRegistry.aggregate(answers.flatMap((a) => (a.answer ? [a.answer] : [])));
      return `${await merged.metrics()}${await own.metrics()}`;
    },
  };
}

/**
 * /readyz with workers: every listening worker runs its own checks (backends, store); ready when
 * at least one listens and every check of every worker that answered is ok. A check that is not
 * names the worker: "worker 2: 127.0.0.1:143: ...". During a shutdown: not ready at once.
 */
export function clusterReadiness(pool: Pick<WorkerPool, 'askAll'>, stopping: () => boolean): () => Promise<Readiness> {
  return async () => {
    if (stopping()) return { ready: false, checks: { server: 'shutting down' } };
    const answers = (await pool.askAll('readiness')).flatMap((a) => (a.answer ? [{ id: a.id, r: a.answer }] : []));
    if (answers.length === 0) return { ready: false, checks: { workers: 'none listening' } };
    const checks: Record<string, string> = {};
    for (const { id, r } of answers) {
      for (const [key, value] of Object.entries(r.checks)) {
        if (value === 'ok') checks[key] ??= 'ok';
        else if (checks[key] === undefined || checks[key] === 'ok') checks[key] = `worker ${id}: ${value}`; // the first fault said
      }
    }
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  };
}
