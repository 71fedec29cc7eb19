import { limits } from '../core/limits.js';
import { LogEvent } from '../core/log-events.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionGate } from '../protocols/shared/connection-gate.js';
import type { FrontEnd, ShutdownCounts } from '../protocols/shared/front-end-server.js';

/** Resolves with `work`'s value, or `late` after `ms` (the timer never outlives the race). */
async function within<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a shutdown stops, in its order. */
export interface ShutdownParts {
  frontEnds: FrontEnd[];
  gate: ConnectionGate;
  /** Told first, so /readyz says 503 while the rest closes. */
  readiness?: { stopping(): void };
  /** Stopped at once: the portal, the verify service, the revocation watcher, the pruner. */
  stopAtOnce: (() => Promise<void> | void)[];
  /** The store's queue: written within what is left of the grace, then the store closed. */
  store: {
    queued(): number;
    flush(timeoutMs: number): Promise<boolean>;
    /** Waits for revokes' kick commands (bounded by the caller), then closes the store. */
    close(flushMs: number): Promise<void>;
    drain(): Promise<unknown>;
  };
  /** Stopped last (the metrics listener: scrapers see the shutdown through). */
  stopLast: (() => Promise<void> | void)[];
}

export interface ShutdownSummary extends ShutdownCounts {
  /** Sessions still open when the grace ran out, closed without their goodbye. */
  cut: number;
  /** Queued writes (audit, Last Used) not written by the end of the grace (logged by the store). */
  writesLost: number;
  durationMs: number;
}

/**
 * SIGTERM / SIGINT within [server] shutdown_grace_seconds (`graceMs`): accept no one; clients
 * not logged in hear their protocol's goodbye at once (and so do those waiting for a place);
 * logged-in sessions run on and hear theirs limits.shutdownLastWordsMs before the end of the
 * grace (half of it when shorter); whatever is still open near the end is cut; the write-behind
 * queue gets what is left, then the store closes. One `shutdown` line with the counts.
 */
export async function gracefulShutdown(
  p: ShutdownParts,
  o: { graceMs: number; signal: string; logger: Logger; /** The closing line's event (a worker's: worker.stopped). */ event?: string },
): Promise<ShutdownSummary> {
  const started = Date.now();
  const left = () => Math.max(0, started + o.graceMs - Date.now());
  const goodbyeMs = o.graceMs - Math.min(limits.shutdownLastWordsMs, o.graceMs / 2);
  const cutMs = o.graceMs - Math.min(1_000, o.graceMs / 4);

  p.readiness?.stopping();
  p.gate.drain();
  const ends = Promise.all(p.frontEnds.map((f) => f.shutdown(goodbyeMs)));
  await Promise.all(p.stopAtOnce.map(async (stop) => stop()));
  let cut = 0;
  const inTime = await within(ends.then(() => true), Math.max(0, started + cutMs - Date.now()), false);
  if (!inTime) {
    cut = p.frontEnds.reduce((n, f) => n + f.connections(), 0);
    await Promise.all(p.frontEnds.map((f) => f.close()));
  }
  const counts = (await ends).reduce((a, c) => ({ preLogin: a.preLogin + c.preLogin, loggedIn: a.loggedIn + c.loggedIn }), { preLogin: 0, loggedIn: 0 });

  const flushed = await p.store.flush(left());
  const writesLost = flushed ? 0 : p.store.queued();
  await within(p.store.drain(), left(), undefined);
  await p.store.close(0);
  await Promise.all(p.stopLast.map(async (stop) => stop()));
  const summary = { ...counts, cut, writesLost, durationMs: Date.now() - started };
  o.logger.info({ event: o.event ?? LogEvent.shutdown, signal: o.signal, graceMs: o.graceMs, ...summary }, 'stopped');
  return summary;
}
