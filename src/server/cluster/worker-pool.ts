import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { type ErrorCode, TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import type { Logger } from '../../core/logger.js';
import type { ShutdownSummary } from '../graceful-shutdown.js';
import { IpcChannel } from './ipc-channel.js';
import { RestartBackoff } from './restart-backoff.js';
import type { SupervisorQuestions, ToSupervisor, ToWorker, WorkerQuestions, WorkerStart } from './worker-messages.js';

/** The supervisor's end of one worker's channel. */
export type WorkerChannel = IpcChannel<ToWorker, ToSupervisor, WorkerQuestions, SupervisorQuestions>;

interface Slot {
  id: number;
  worker?: Worker;
  channel?: WorkerChannel;
  /** It asked for its start: it hears notices from then on. */
  attached: boolean;
  /** Listening (said "ready"), until it exits. */
  ready: boolean;
  startedAt: number;
  backoff: RestartBackoff;
  restart?: NodeJS.Timeout;
  /** Its graceful shutdown's counts, when it sent them. */
  summary?: ShutdownSummary;
}

export interface WorkerPoolOptions {
  count: number;
  logger: Logger;
  /** The start message of worker `id`, with the config as it is now (after reloads). */
  start(id: number): WorkerStart;
  /** Sets up what the supervisor answers on a new worker's channel (the portal's passes). */
  answer(channel: WorkerChannel): void;
}

/** What a worker's question got: its answer, or nothing (it was silent or gone). */
export interface WorkerAnswer<T> {
  id: number;
  answer?: T;
}

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/**
 * The workers of the supervisor (supervisor.ts): forks them (node:cluster, worker-main.ts), each
 * with its number 1..count; tells them what to do; replaces one that dies outside a shutdown
 * after a pause (RestartBackoff), logged; and waits for them all at a shutdown.
 */
export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  readonly #slots: Slot[];
  /** start() is running: a death is a failed start, not something to repair. */
  #starting = true;
  #stopping = false;
  #allGone: (() => void) | undefined;
  #restarts = 0;

  constructor(o: WorkerPoolOptions) {
    this.#o = o;
    this.#slots = Array.from({ length: o.count }, (_, i) => ({ id: i + 1, attached: false, ready: false, startedAt: 0, backoff: new RestartBackoff() }));
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [], silent: false });
  }

  /** Workers listening now. */
  get ready(): number {
    return this.#slots.filter((s) => s.ready).length;
  }

  /** Workers started again after one died, since the start. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Starts every worker; resolves once all listen. If one fails, the others are stopped and its error thrown. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.#slots.map((s) => this.#fork(s)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.#stopping = true;
      await this.#waitAll(() => this.#each((w) => w.process.kill('SIGKILL')));
      throw failed.reason;
    }
    this.#starting = false;
  }

  /** A notice to every worker alive (listening, or starting with the config as it is now). */
  broadcast<K extends keyof ToWorker>(kind: K, body: ToWorker[K]): void {
    for (const s of this.#slots) if (s.attached) void s.channel?.notify(kind, body);
  }

  /** Asks every listening worker; a worker silent past limits.workerRequestMs is logged and has no answer. */
  async askAll<K extends keyof WorkerQuestions & string>(kind: K): Promise<WorkerAnswer<WorkerQuestions[K]['a']>[]> {
    const asked = this.#slots.filter((s) => s.ready && s.channel);
    return Promise.all(
      asked.map(async (s) => {
        try {
          return { id: s.id, answer: await (s.channel as WorkerChannel).ask(kind, null, limits.workerRequestMs) };
        } catch (err) {
          this.#o.logger.warn({ event: LogEvent.workerSilent, worker: s.id, question: kind, err: (err as Error).message }, `worker ${s.id}: no answer`);
          return { id: s.id };
        }
      }),
    );
  }

  /** SIGTERM / SIGINT: every worker shuts down gracefully; resolves with their counts once all exited. */
  async stop(signal: string): Promise<{ summaries: ShutdownSummary[]; unreported: number }> {
    this.#stopping = true;
    for (const s of this.#slots) clearTimeout(s.restart);
    await this.#waitAll(() => this.broadcast('shutdown', { signal }));
    const summaries = this.#slots.flatMap((s) => (s.summary ? [s.summary] : []));
    return { summaries, unreported: this.#slots.length - summaries.length };
  }

  /** The signal again: every worker exits at once. */
  exitNow(signal: string): void {
    this.#stopping = true;
    for (const s of this.#slots) clearTimeout(s.restart);
    this.broadcast('exit-now', { signal });
  }

  /** The grace is over and a worker is still there: killed. */
  kill(): void {
    this.#each((w) => w.process.kill('SIGKILL'));
  }

  #each(fn: (w: Worker) => void): void {
    for (const s of this.#slots) if (s.worker) fn(s.worker);
  }

  /** Runs `then`, and resolves once no worker is left. */
  #waitAll(then: () => void): Promise<void> {
    const gone = new Promise<void>((resolve) => (this.#allGone = resolve));
    then();
    this.#checkAllGone();
    return gone;
  }

  #checkAllGone(): void {
    if (this.#slots.every((s) => !s.worker)) this.#allGone?.();
  }

  /** Forks the slot's worker; resolves when it listens, rejects when its start fails. */
  #fork(slot: Slot): Promise<void> {
    const worker = cluster.fork();
    const channel: WorkerChannel = new IpcChannel(
      (m) =>
        new Promise<void>((resolve) => {
          if (!worker.isConnected()) return resolve();
          worker.send(m as object, undefined, () => resolve());
        }),
    );
    Object.assign(slot, { worker, channel, attached: false, ready: false, startedAt: Date.now(), summary: undefined });
    worker.on('message', (m) => channel.receive(m));
    // node:cluster's own writes to a worker that just died (a connection handed to it, a reply)
    // fail with EPIPE and are emitted here: unheard, they would throw and end the supervisor.
    worker.on('error', (err) => {
      this.#o.logger.warn({ event: LogEvent.workerChannelError, worker: slot.id, pid: worker.process.pid, err: err.message }, `worker ${slot.id}: ${err.message}`);
    });
    this.#o.answer(channel);
    channel.answer('start', () => {
      slot.attached = true;
      return this.#o.start(slot.id);
    });
    channel.onNotice('stopped', (summary) => (slot.summary = summary));
    this.#o.logger.info({ event: LogEvent.workerStarted, worker: slot.id, pid: worker.process.pid }, `worker ${slot.id} started`);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TwostepError('INTERNAL', `worker ${slot.id} did not start within ${limits.workerStartMs / 1000} s`));
        worker.process.kill('SIGKILL');
      }, limits.workerStartMs);
      channel.onNotice('ready', () => {
        clearTimeout(timer);
        slot.ready = true;
        resolve();
      });
      channel.onNotice('failed', (f) => {
        clearTimeout(timer);
        reject(new TwostepError((f.code ?? 'INTERNAL') as ErrorCode, f.message));
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new TwostepError('INTERNAL', `worker ${slot.id} exited while starting (${signal ?? `exit ${code}`})`));
        channel.close();
        this.#exited(slot, worker, code, signal);
      });
    });
  }

  /** A worker exited: expected (a shutdown, a failed start), or a death to repair after a pause. */
  #exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    const wasReady = slot.ready;
    slot.worker = undefined;
    slot.channel = undefined;
    slot.attached = false;
    slot.ready = false;
    if (this.#stopping || this.#starting) return this.#checkAllGone();
    const pauseMs = slot.backoff.next(slot.startedAt, Date.now());
    this.#o.logger.error(
      { event: LogEvent.workerExited, worker: slot.id, pid: worker.process.pid, code, signal, ranMs: Date.now() - slot.startedAt, restartInMs: pauseMs, inARow: slot.backoff.inARow },
      `worker ${slot.id} ${wasReady ? 'died' : 'failed to start'} (${signal ?? `exit ${code}`}): its sessions are gone; starting it again in ${pauseMs} ms`,
    );
    slot.restart = setTimeout(() => {
      if (this.#stopping) return;
      this.#restarts++;
      // A failed start is logged by the worker (worker.failed) and its exit here (worker.exited).
      this.#fork(slot).catch(() => {});
    }, pauseMs);
  }
}
