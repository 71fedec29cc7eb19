import type net from 'node:net';
import { limits } from '../../core/limits.js';
import { connectUpstream, type UpstreamTarget } from './upstream-connect.js';

interface Spare {
  socket: net.Socket;
  at: number;
  /** What the backend sent meanwhile (its greeting), handed back to the stream on take(). */
  received: Buffer[];
  onData: (b: Buffer) => void;
  onClose: () => void;
}

/**
 * A few backend connections opened ahead of need, so a login does not wait for the backend's
 * connect (TLS handshake, Dovecot starting a login process) and greeting: a proxy that connects
 * only after the client's LOGIN adds that wait to every login, where a direct client pays it
 * while it sends its own LOGIN. Each spare is used once; take() starts a replacement at once.
 * Spares are made only by take() (and at start): a spare older than limits.upstreamSpareMaxAgeMs
 * is closed and not replaced, as is one the backend closed, so a quiet server holds none (and
 * Dovecot logs no stream of unused connections); the next login connects as before and refills.
 * A failed refill waits limits.upstreamSpareRetryMs before the next try (a backend that is down
 * is not hammered).
 */
export class UpstreamSpares {
  readonly #target: UpstreamTarget;
  readonly #size: number;
  readonly #ready: Spare[] = [];
  #connecting = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;

  constructor(target: UpstreamTarget, size: number) {
    this.#target = target;
    this.#size = size;
    this.#sweepTimer = setInterval(() => this.#sweep(), limits.upstreamSpareMaxAgeMs / 2);
    this.#sweepTimer.unref();
    this.#fill();
  }

  /** Ready spares (for tests). */
  get ready(): number {
    return this.#ready.length;
  }

  /** A connected backend socket (its greeting possibly already waiting in it), or a new one. */
  take(timeoutMs: number): Promise<net.Socket> {
    const now = Date.now();
    for (let s = this.#ready.shift(); s; s = this.#ready.shift()) {
      this.#release(s);
      if (!s.socket.destroyed && s.socket.readyState === 'open' && now - s.at < limits.upstreamSpareMaxAgeMs) {
        // Still flowing, but with no 'data' listener the stream buffers until the caller reads.
        if (s.received.length) s.socket.unshift(Buffer.concat(s.received));
        this.#fill();
        return Promise.resolve(s.socket);
      }
      s.socket.destroy();
    }
    this.#fill();
    return connectUpstream(this.#target, timeoutMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#sweepTimer);
    for (const s of this.#ready.splice(0)) {
      this.#release(s);
      s.socket.destroy();
    }
  }

  /** Closes spares past their age; no replacement until the next take(). */
  #sweep(): void {
    const now = Date.now();
    for (const s of [...this.#ready]) {
      if (now - s.at < limits.upstreamSpareMaxAgeMs) continue;
      this.#ready.splice(this.#ready.indexOf(s), 1);
      this.#release(s);
      s.socket.destroy();
    }
  }

  #release(s: Spare): void {
    s.socket.off('data', s.onData);
    s.socket.off('close', s.onClose);
  }

  #fill(): void {
    if (this.#retryTimer) return;
    while (!this.#closed && this.#ready.length + this.#connecting < this.#size) {
      this.#connecting++;
      connectUpstream(this.#target, limits.backendConnectMs).then(
        (socket) => {
          this.#connecting--;
          if (this.#closed) return void socket.destroy();
          socket.on('error', () => {});
          const spare: Spare = {
            socket,
            at: Date.now(),
            received: [],
            // Reading keeps the stream flowing, so the backend closing a spare is seen at once.
            onData: (b) => {
              spare.received.push(b);
              if (spare.received.length > 8) socket.destroy(); // a greeting is one line
            },
            onClose: () => {
              const i = this.#ready.indexOf(spare);
              if (i >= 0) this.#ready.splice(i, 1);
            },
          };
          socket.on('data', spare.onData);
          socket.once('close', spare.onClose);
          this.#ready.push(spare);
        },
        () => {
          this.#connecting--;
          if (this.#closed || this.#retryTimer) return;
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            this.#fill();
          }, limits.upstreamSpareRetryMs);
          this.#retryTimer.unref();
        },
      );
    }
  }
}
