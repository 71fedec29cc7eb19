import type net from 'node:net';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import { currentSecureContext, type SecureContextSource } from '../../core/secure-context-holder.js';
import type { Protocol } from '../../policy/types.js';
import { LineReadError, LineReader } from './line-reader.js';
import { SessionOver } from './session-over.js';
import type { Splice, SpliceStats } from './splice.js';
import { upgradeServerTls } from './tls-upgrade.js';

export interface ClientConnectionOptions {
  socket: net.Socket;
  cid: string;
  protocol: Protocol;
  /** The socket is already TLS (implicit-TLS listener). */
  tls: boolean;
  logger: Logger;
  /** Read when STARTTLS begins: a reload's new certificate serves the sessions that upgrade after it. */
  secureContext: SecureContextSource;
  /** The protocol's pre-auth line cap (limits.preAuthLineBytes, limits.pop3PreAuthLineBytes). */
  maxLineBytes: number;
  /** The pre-auth or idle deadline passed; the session says goodbye its way (or not, once logged in). */
  onTimeout: () => void;
  /** The client's ends when the listener knows better than the socket (a balancer's PROXY header). */
  peer?: ClientAddress;
}

/** The client's address and the local address it connected to (forwarded to the backend). */
export interface ClientAddress {
  ip: string;
  port: number;
  localIp: string;
  localPort: number;
}

/**
 * The byte side of one client session, whatever the protocol: the socket (and its TLS upgrade),
 * the capped line reader, the pre-auth deadlines, the graceful close and destroy(), the handover
 * to the relay and the fields of the one 'close' log line. The session skeleton
 * (pre-auth-session.ts) keeps the state and the command loop; the protocol every word said.
 */
export class ClientConnection {
  readonly log: Logger;
  readonly client: ClientAddress;
  readonly cid: string;
  readonly #o: ClientConnectionOptions;
  readonly #started = Date.now();
  readonly #rawSocket: net.Socket;
  #socket: net.Socket;
  /** Null once handed over to the relay (its byte count kept in #readBytes). */
  #reader: LineReader | null;
  #readBytes = 0;
  #tls: boolean;
  #upgrading = false;
  #closed = false;
  #bytesOut = 0;
  #relay: { splice: Splice; backend: net.Socket } | undefined;
  #overallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closeReason = 'client-closed';
  /** Why destroy() ended the session, when it was given a reason (e.g. 'revoked'). */
  #destroyReason: string | undefined;

  constructor(o: ClientConnectionOptions) {
    this.#o = o;
    this.cid = o.cid;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.client = o.peer ?? { ip: o.socket.remoteAddress ?? '', port: o.socket.remotePort ?? 0, localIp: o.socket.localAddress ?? '', localPort: o.socket.localPort ?? 0 };
    this.log = o.logger.child({ cid: o.cid, proto: o.protocol, ip: this.client.ip });
    this.#reader = this.#newReader(o.socket, 0);
  }

  /** The client connection is TLS now (implicit, or after STARTTLS / STLS). */
  get tls(): boolean {
    return this.#tls;
  }

  /** Started on the implicit-TLS listener (so STARTTLS / STLS is never offered). */
  get implicitTls(): boolean {
    return this.#o.tls;
  }

  /** A method, not a field test: the connection closes across awaits (timers, destroy()). */
  closed(): boolean {
    return this.#closed;
  }

  /** The current reader (a new one after STARTTLS); none after the handover (a read fails as on a closed stream). */
  get reader(): LineReader {
    if (!this.#reader) throw new LineReadError('closed');
    return this.#reader;
  }

  /** Arms the pre-auth deadlines; true when the client spoke before our greeting (an early talker). */
  start(): boolean {
    this.log.debug({ event: LogEvent.connect, tls: this.#tls });
    this.#overallTimer = setTimeout(this.#o.onTimeout, limits.preAuthTimeoutMs);
    this.armIdle();
    return this.reader.buffered > 0;
  }

  /** Sends one line (CRLF added). */
  send(line: string): void {
    this.write(Buffer.from(`${line}\r\n`, 'utf8'));
  }

  /** Sends raw bytes to the client (dropped while a TLS handshake runs: no plaintext inside it). */
  write(bytes: Buffer): void {
    if (this.#upgrading || this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#bytesOut += bytes.length;
    this.#socket.write(bytes);
  }

  /** Re-arms the idle deadline (after each command or SASL response). */
  armIdle(): void {
    if (this.#idleTimer) this.#idleTimer.refresh();
    else this.#idleTimer = setTimeout(this.#o.onTimeout, limits.preAuthIdleMs);
  }

  /**
   * The server side of STARTTLS / STLS, once the "begin TLS" reply is sent. Plaintext the client
   * pipelined after the command is an injection attempt (CVE-2011-0411) and is dropped. A failed
   * handshake closes the connection and throws SessionOver.
   */
  async startTls(): Promise<void> {
    const total = this.reader.totalBytes;
    const injected = this.reader.detach();
    if (injected.length) this.log.warn({ event: LogEvent.starttlsInjection, bytes: injected.length });
    this.#upgrading = true;
    try {
      const secure = await upgradeServerTls(this.#rawSocket, currentSecureContext(this.#o.secureContext), limits.tlsHandshakeMs);
      this.#socket = secure;
      this.#tls = true;
      this.#reader = this.#newReader(secure, total);
      this.armIdle();
    } catch (err) {
      this.log.info({ event: LogEvent.tlsFailed, ...logSafeError(err) });
      this.close('tls-failed');
      throw new SessionOver();
    } finally {
      this.#upgrading = false;
    }
  }

  /** Stops reading the client and its idle deadline while the login runs. */
  holdInput(): void {
    this.#reader?.pause();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Reads the client again with a fresh idle deadline (after a failed login). */
  resumeInput(): void {
    this.#reader?.resume();
    this.armIdle();
  }

  /**
   * Hands the client connection over to the relay: clears the pre-auth deadlines, stops the
   * reader and returns the socket with the bytes the client pipelined after its login. The
   * reader is dropped (only its byte count is kept): a logged-in session holds what its relay needs.
   */
  handOver(): { socket: net.Socket; pending: Buffer } {
    this.stopTimers();
    const reader = this.reader;
    this.#reader = null;
    this.#readBytes = reader.totalBytes;
    return { socket: this.#socket, pending: reader.detach() };
  }

  /** Keeps the relay and the backend socket of a logged-in session, for destroy(). */
  relaying(splice: Splice, backend: net.Socket): void {
    this.#relay = { splice, backend };
  }

  /** Ends the session now (server close, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#destroyReason ??= reason;
    this.#closeReason = 'destroyed';
    this.#relay?.splice.destroy();
    this.#relay?.backend.destroy();
    this.#closed = true;
    this.stopTimers();
    this.#socket.destroy();
    this.#rawSocket.destroy();
  }

  /** Flushes what was sent, then closes; destroys after limits.closeLingerMs at the latest. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closeReason = reason;
    this.#closed = true;
    this.stopTimers();
    this.#reader?.detach();
    const sock = this.#socket;
    sock.resume(); // read and drop whatever still comes, so the peer's FIN is seen
    sock.end();
    const linger = setTimeout(() => {
      sock.destroy();
      this.#rawSocket.destroy();
    }, limits.closeLingerMs);
    linger.unref();
    sock.once('close', () => clearTimeout(linger));
  }

  /**
   * Refused before the greeting (connection limits, shutdown): the protocol's words and close.
   * Its 'close' line is debug: the connection gate logs refusals, rate-limited, and a flood must
   * not write two lines per connection.
   */
  refuse(lastWords: string[], why: string): Promise<void> {
    for (const line of lastWords) this.send(line);
    this.close(why);
    this.log.debug({ event: LogEvent.close, ...this.closeFields(undefined) });
    return Promise.resolve();
  }

  /** The reason given to destroy() once relaying (e.g. 'shutdown'); the close line says it. */
  endReason(reason: string): void {
    this.#destroyReason ??= reason;
  }

  /** The fields of the session's 'close' line: why, bytes each way, how long. */
  closeFields(stats: SpliceStats | undefined): Record<string, unknown> {
    return {
      reason: this.#destroyReason ?? (stats ? stats.end : this.#closeReason),
      bytesIn: (this.#reader ? this.#reader.totalBytes : this.#readBytes) + (stats?.upBytes ?? 0),
      bytesOut: this.#bytesOut + (stats?.downBytes ?? 0),
      durationMs: Date.now() - this.#started,
    };
  }

  stopTimers(): void {
    clearTimeout(this.#overallTimer);
    clearTimeout(this.#idleTimer);
    this.#overallTimer = this.#idleTimer = undefined;
  }

  #newReader(socket: net.Socket, initialTotalBytes: number): LineReader {
    socket.on('error', (err) => this.log.debug({ event: LogEvent.socketError, ...logSafeError(err) }));
    return new LineReader(socket, { maxLineBytes: this.#o.maxLineBytes, maxTotalBytes: limits.preAuthTotalBytes, initialTotalBytes });
  }
}
