import type net from 'node:net';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import { metrics } from '../../core/metrics.js';
import { RateLimited } from '../../core/rate-limited.js';

/** [limits] as `serve` sized them (src/server/connection-budget.ts). */
export interface ConnectionLimits {
  /** Client connections at once, all front ends together. */
  maxConnections: number;
  /** Connections not logged in yet from one address. */
  maxPerIp: number;
  /** Connections accepted over maxConnections that may wait for a place. */
  maxWaiting: number;
}

/**
 * Whether an accepted connection is served: 'ok', or refused with the protocol's words:
 * 'per-ip' (too many from its address), 'busy' (no place after waiting, or no file left),
 * 'shutdown' (the server is stopping).
 */
export type Admission = 'ok' | 'per-ip' | 'busy' | 'shutdown';

/** One connection's place in the counts; the front end reports its login and its end. */
export interface Ticket {
  readonly admission: Admission;
  /** The session logged in: it no longer counts against its address's pre-login limit. */
  loggedIn(): void;
  /** The connection is gone (idempotent). */
  release(): void;
}

interface Waiting {
  protocol: string;
  ip: string;
  resolve(t: Ticket): void;
  timer: NodeJS.Timeout;
  socket: net.Socket;
  onClose: () => void;
}

interface ProtocolCounts {
  open: number;
  loggedIn: number;
  waiting: number;
}

const refusedTicket = (admission: Admission): Ticket => ({ admission, loggedIn() {}, release() {} });

/**
 * The connection limits of the mail front ends, shared by all of them: every accepted client
 * passes here before its first byte (and before a TLS handshake). Over max_connections_per_ip a
 * client hears "too many connections from your address"; with max_connections open it waits (no
 * greeting) until a place frees, at most limits.connectionWaitMs, then hears "busy"; after
 * EMFILE/ENFILE new clients hear "busy" for limits.fdExhaustedPauseMs. Never a silent close.
 * Each kind of event is logged at most once per limits.limitLogEveryMs, with counts.
 */
export class ConnectionGate {
  #limits: ConnectionLimits;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #say: RateLimited;
  #open = 0;
  /** Pre-login connections (admitted or waiting) per client address. */
  readonly #preLogin = new Map<string, number>();
  readonly #waiting: Waiting[] = [];
  readonly #byProtocol = new Map<string, ProtocolCounts>();
  #outOfFilesUntil = 0;
  #draining = false;

  constructor(l: ConnectionLimits, log: Logger, clock: () => number = Date.now) {
    this.#limits = l;
    this.#log = log;
    this.#clock = clock;
    this.#say = new RateLimited(limits.limitLogEveryMs, clock);
  }

  get limits(): ConnectionLimits {
    return this.#limits;
  }

  /** New limits (SIGHUP): live connections stay; waiting ones get places that opened. */
  setLimits(l: ConnectionLimits): void {
    this.#limits = l;
    this.#admitWaiting();
  }

  /** Open, logged-in and waiting connections per protocol (for metrics). */
  counts(): Iterable<[string, ProtocolCounts]> {
    return this.#byProtocol.entries();
  }

  get open(): number {
    return this.#open;
  }

  /**
   * Decides for a connection just accepted from `ip` on a `protocol` listener: at once, or
   * (server full) once a place frees or the wait ends.
   */
  enter(protocol: string, ip: string, socket: net.Socket): Ticket | Promise<Ticket> {
    if (this.#draining) return this.#refuse(protocol, ip, 'shutdown');
    const n = this.#preLogin.get(ip) ?? 0;
    if (n >= this.#limits.maxPerIp) return this.#refuse(protocol, ip, 'per-ip');
    if (this.#clock() < this.#outOfFilesUntil) return this.#refuse(protocol, ip, 'busy');
    if (this.#open < this.#limits.maxConnections && this.#waiting.length === 0) {
      this.#preLogin.set(ip, n + 1);
      return this.#admit(protocol, ip);
    }
    if (this.#waiting.length >= this.#limits.maxWaiting) return this.#refuse(protocol, ip, 'busy');
    this.#preLogin.set(ip, n + 1);
    this.#countsOf(protocol).waiting++;
    this.#say.hit('full', (count) =>
      this.#log.warn(
        { event: LogEvent.connectionsFull, maxConnections: this.#limits.maxConnections, waiting: this.#waiting.length + 1, count },
        `limits.max_connections (${this.#limits.maxConnections}) reached: new clients wait up to ${limits.connectionWaitMs / 1000} s for a place`,
      ),
    );
    return new Promise<Ticket>((resolve) => {
      const w: Waiting = {
        protocol,
        ip,
        resolve,
        socket,
        timer: setTimeout(() => {
          this.#unwait(w);
          resolve(this.#refuse(protocol, ip, 'busy'));
        }, limits.connectionWaitMs),
        onClose: () => {
          // The client gave up waiting: its place in the line goes.
          this.#unwait(w);
          resolve(refusedTicket('busy'));
        },
      };
      w.timer.unref();
      socket.once('close', w.onClose);
      this.#waiting.push(w);
    });
  }

  /**
   * accept() or a backend connect failed for want of files (EMFILE/ENFILE): logged, and new
   * clients hear "busy" for limits.fdExhaustedPauseMs instead of taking the last files.
   */
  outOfFiles(err: unknown, where: 'accept' | 'backend'): void {
    this.#outOfFilesUntil = this.#clock() + limits.fdExhaustedPauseMs;
    this.#say.hit('out-of-files', (count) =>
      this.#log.error(
        { event: LogEvent.outOfFiles, where, count, ...logSafeError(err) },
        `${where === 'accept' ? 'accept()' : 'backend connect'} failed: no file left (raise LimitNOFILE= / ulimit -n, or lower limits.max_connections); new clients hear "busy" for ${limits.fdExhaustedPauseMs} ms`,
      ),
    );
  }

  /** Shutdown: clients still waiting hear the goodbye, and so does anyone accepted from now on. */
  drain(): void {
    this.#draining = true;
    for (const w of [...this.#waiting]) {
      this.#unwait(w);
      w.resolve(this.#refuse(w.protocol, w.ip, 'shutdown'));
    }
  }

  #admit(protocol: string, ip: string): Ticket {
    this.#open++;
    const c = this.#countsOf(protocol);
    c.open++;
    let preLogin = true;
    let loggedIn = false;
    let released = false;
    return {
      admission: 'ok',
      loggedIn: () => {
        if (released || loggedIn) return;
        loggedIn = true;
        c.loggedIn++;
        if (preLogin) this.#leavePreLogin(ip);
        preLogin = false;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        c.open--;
        if (loggedIn) c.loggedIn--;
        if (preLogin) this.#leavePreLogin(ip);
        this.#admitWaiting();
      },
    };
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#open < this.#limits.maxConnections) {
      const w = this.#waiting.shift() as Waiting;
      this.#stopWaiting(w);
      w.resolve(this.#admit(w.protocol, w.ip)); // still pre-login from its address: the count stays
    }
  }

  /** A waiting client leaves the line without a place: out of it and of its address's count. */
  #unwait(w: Waiting): void {
    const i = this.#waiting.indexOf(w);
    if (i >= 0) this.#waiting.splice(i, 1);
    this.#stopWaiting(w);
    this.#leavePreLogin(w.ip);
  }

  #stopWaiting(w: Waiting): void {
    clearTimeout(w.timer);
    w.socket.off('close', w.onClose);
    this.#countsOf(w.protocol).waiting--;
  }

  #leavePreLogin(ip: string): void {
    const n = (this.#preLogin.get(ip) ?? 1) - 1;
    if (n <= 0) this.#preLogin.delete(ip);
    else this.#preLogin.set(ip, n);
  }

  #refuse(protocol: string, ip: string, why: Exclude<Admission, 'ok'>): Ticket {
    metrics.refused(protocol, why);
    if (why !== 'shutdown') {
      this.#say.hit(`refused-${why}`, (count) =>
        this.#log.warn(
          { event: LogEvent.connectionRefused, reason: why, proto: protocol, ip, count },
          why === 'per-ip'
            ? `refused: more than limits.max_connections_per_ip (${this.#limits.maxPerIp}) clients not logged in from one address`
            : 'refused: server busy (no place free, or no file left)',
        ),
      );
    }
    return refusedTicket(why);
  }

  #countsOf(protocol: string): ProtocolCounts {
    let c = this.#byProtocol.get(protocol);
    if (!c) {
      c = { open: 0, loggedIn: 0, waiting: 0 };
      this.#byProtocol.set(protocol, c);
    }
    return c;
  }
}
