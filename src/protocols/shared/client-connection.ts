import type net from 'node:net';
import type tls from 'node:tls';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Protocol } from '../../policy/types.js';
import { errorText } from './error-text.js';
import { LineReader } from './line-reader.js';
import type { ProxiedLogin } from './login-and-splice.js';
import { SessionOver } from './session-over.js';
import type { SessionRegistry } from './session-registry.js';
import type { Splice, SpliceStats } from './splice.js';
import { upgradeServerTls } from './tls-upgrade.js';

export interface ClientConnectionOptions {
  socket: net.Socket;
  cid: string;
  protocol: Protocol;
  /** The socket is already TLS (implicit-TLS listener). */
  tls: boolean;
  logger: Logger;
  secureContext: tls.SecureContext;
  /** The protocol's pre-auth line cap (limits.preAuthLineBytes, limits.pop3PreAuthLineBytes). */
  maxLineBytes: number;
  /** The pre-auth or idle deadline passed; the session says goodbye its way (or not, once logged in). */
  onTimeout(): void;
  /** The connection entered its closed state (close, destroy): the session moves its state enum. */
  onClosed(): void;
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
 * the capped line reader, the pre-auth deadlines and command loop, the graceful close and
 * destroy(), the handover to the splice and the one 'close' log line. The protocol session
 * (imap-session.ts, pop3-session.ts, smtp-session.ts) keeps the state machine and every word
 * said on the wire.
 */
export class ClientConnection {
  readonly log: Logger;
  readonly client: ClientAddress;
  readonly #o: ClientConnectionOptions;
  readonly #started = Date.now();
  readonly #rawSocket: net.Socket;
  #socket: net.Socket;
  #reader: LineReader;
  #tls: boolean;
  #closed = false;
  #bytesOut = 0;
  #proxied: ProxiedLogin | undefined;
  #overallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeReason = 'client-closed';
  /** Why destroy() ended the session, when it was given a reason (e.g. 'revoked'). */
  #destroyReason: string | undefined;
  #unregister: (() => void) | undefined;

  constructor(o: ClientConnectionOptions) {
    this.#o = o;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    const ip = o.socket.remoteAddress ?? '';
    this.client = { ip, port: o.socket.remotePort ?? 0, localIp: o.socket.localAddress ?? '', localPort: o.socket.localPort ?? 0 };
    this.log = o.logger.child({ cid: o.cid, proto: o.protocol, ip });
    this.#reader = this.#newReader(o.socket, 0);
  }

  get cid(): string {
    return this.#o.cid;
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

  /**
   * Runs a session: deadlines armed, early talkers refused, then `body` (greeting and command
   * loop, resolving with the splice's stats once proxied). Never rejects; logs one 'close' line.
   */
  async run(body: () => Promise<SpliceStats | undefined>): Promise<void> {
    let stats: SpliceStats | undefined;
    try {
      this.log.debug({ event: 'connect', tls: this.#tls });
      this.#overallTimer = setTimeout(() => this.#o.onTimeout(), limits.preAuthTimeoutMs);
      this.armIdle();
      if (this.#reader.buffered > 0) {
        // Early talker: bytes before our greeting (clients wait for it; spam bots and scanners do not).
        this.log.info({ event: 'early-talker' });
        this.close('early-talker');
        return;
      }
      stats = await body();
    } catch (err) {
      if (!(err instanceof SessionOver)) {
        this.log.error({ event: 'session-error', err: errorText(err) });
        this.close('internal-error');
      }
    } finally {
      this.#clearTimers();
      this.#unregister?.();
      this.log.info({
        event: 'close',
        reason: this.#destroyReason ?? (stats ? stats.end : this.#closeReason),
        bytesIn: this.#reader.totalBytes + (stats?.upBytes ?? 0),
        bytesOut: this.#bytesOut + (stats?.downBytes ?? 0),
        durationMs: Date.now() - this.#started,
      });
    }
  }

  /**
   * The pre-auth command loop: `read` takes the next command off the reader (null: a line that is
   * no command, which leaves the idle deadline as it is), the idle deadline is re-armed and
   * `handle` runs the command, until the connection is closed (undefined) or `handle` returns the
   * splice of a login (its stats, once it ends). A failed read (LineReadError on a cap, a close or
   * a failure) goes to `onReadError`, the session's answer, which may throw SessionOver.
   */
  async commandLoop<C>(
    read: (reader: LineReader) => Promise<C | null>,
    onReadError: (err: unknown) => void,
    handle: (command: C) => Promise<Splice | undefined>,
  ): Promise<SpliceStats | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      let command: C | null;
      try {
        command = await read(this.#reader);
      } catch (err) {
        if (this.#closed) return undefined;
        onReadError(err);
        continue;
      }
      if (command === null) continue;
      this.armIdle();
      const spliced = await handle(command);
      if (spliced) return spliced.done;
    }
  }

  /**
   * Reads one line that is not a command (a SASL response) and re-arms the idle deadline. A read
   * failure goes to `onReadError` (the session's answer, as in its command loop), then SessionOver.
   */
  async readResponseLine(onReadError: (err: unknown) => void): Promise<Buffer> {
    let line: Buffer;
    try {
      line = await this.#reader.readLine();
    } catch (err) {
      onReadError(err);
      throw new SessionOver();
    }
    this.armIdle();
    return line;
  }

  /** The current reader, for protocol parsers that also read literals. */
  get reader(): LineReader {
    return this.#reader;
  }

  /** Sends one line (CRLF added). */
  send(line: string): void {
    this.write(Buffer.from(`${line}\r\n`, 'utf8'));
  }

  /** Sends raw bytes to the client. */
  write(bytes: Buffer): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#bytesOut += bytes.length;
    this.#socket.write(bytes);
  }

  /** Re-arms the idle deadline (after each command or SASL response). */
  armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#o.onTimeout(), limits.preAuthIdleMs);
  }

  /**
   * The server side of STARTTLS / STLS, once the "begin TLS" reply is sent. Plaintext the client
   * pipelined after the command is an injection attempt (CVE-2011-0411) and is dropped. A failed
   * handshake closes the connection and throws SessionOver.
   */
  async startTls(): Promise<void> {
    const total = this.#reader.totalBytes;
    const injected = this.#reader.detach();
    if (injected.length) this.log.warn({ event: 'starttls-injection', bytes: injected.length });
    try {
      const secure = await upgradeServerTls(this.#rawSocket, this.#o.secureContext, limits.tlsHandshakeMs);
      this.#socket = secure;
      this.#tls = true;
      this.#reader = this.#newReader(secure, total);
      this.armIdle();
    } catch (err) {
      this.log.info({ event: 'tls-failed', err: errorText(err) });
      throw this.over('tls-failed');
    }
  }

  /** Stops reading the client and its idle deadline while the login runs. */
  holdInput(): void {
    this.#reader.pause();
    clearTimeout(this.#idleTimer);
  }

  /** Reads the client again with a fresh idle deadline (after a failed login). */
  resumeInput(): void {
    this.#reader.resume();
    this.armIdle();
  }

  /**
   * Hands the client connection over for splicing: clears the pre-auth deadlines, stops the
   * reader and returns the socket with the bytes the client pipelined after its login.
   */
  handOver(): { socket: net.Socket; pending: Buffer } {
    this.#clearTimers();
    return { socket: this.#socket, pending: this.#reader.detach() };
  }

  /**
   * Keeps the proxied login's sockets for destroy(), and registers a session signed in with an
   * application code so that revoking the code ends it.
   */
  proxying(proxied: ProxiedLogin, registry: SessionRegistry | undefined, destroy: () => void): void {
    this.#proxied = proxied;
    const d = proxied.decision;
    if (d.via !== 'app-code' || !registry) return;
    this.#unregister = registry.register({
      protocol: this.#o.protocol,
      codeId: d.codeId,
      codeName: d.codeName,
      user: d.user,
      cid: this.#o.cid,
      clientIp: this.client.ip,
      destroy,
    });
  }

  /** Ends the session now (server shutdown, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#destroyReason ??= reason;
    this.#closeReason = 'destroyed';
    this.#proxied?.splice.destroy();
    this.#proxied?.backend.destroy();
    this.#enterClosed();
    this.#socket.destroy();
    this.#rawSocket.destroy();
  }

  /** Flushes what was sent, then closes; destroys after limits.closeLingerMs at the latest. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closeReason = reason;
    this.#enterClosed();
    this.#reader.detach();
    const sock = this.#socket;
    sock.resume(); // read and drop whatever still comes, so the peer's FIN is seen
    sock.end();
    this.#lingerTimer = setTimeout(() => {
      sock.destroy();
      this.#rawSocket.destroy();
    }, limits.closeLingerMs);
    this.#lingerTimer.unref();
    sock.once('close', () => clearTimeout(this.#lingerTimer));
  }

  /** A web request to a mail port: logged and closed without a reply (fail closed); the SessionOver to throw. */
  httpRequest(): SessionOver {
    this.log.info({ event: 'http-request' });
    return this.over('http-request');
  }

  /** close(reason), and the SessionOver for the command loop to throw. */
  over(reason: string): SessionOver {
    this.close(reason);
    return new SessionOver();
  }

  #enterClosed(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#o.onClosed();
    }
    this.#clearTimers();
  }

  #newReader(socket: net.Socket, initialTotalBytes: number): LineReader {
    socket.on('error', (err) => this.log.debug({ event: 'socket-error', err: err.message }));
    return new LineReader(socket, { maxLineBytes: this.#o.maxLineBytes, maxTotalBytes: limits.preAuthTotalBytes, initialTotalBytes });
  }

  #clearTimers(): void {
    clearTimeout(this.#overallTimer);
    clearTimeout(this.#idleTimer);
  }
}
