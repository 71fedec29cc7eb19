import type net from 'node:net';
import type tls from 'node:tls';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import { errorText } from '../shared/error-text.js';
import { LineReadError, LineReader } from '../shared/line-reader.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { SessionOver } from '../shared/session-over.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import type { Splice, SpliceStats } from '../shared/splice.js';
import { upgradeServerTls } from '../shared/tls-upgrade.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import { preAuthCapabilities } from './capabilities.js';
import { authCommand } from './commands/auth-command.js';
import { passCommand, userCommand } from './commands/user-pass-commands.js';
import { parsePop3Command, type Pop3Command } from './pop3-command.js';
import { proxyLogin } from './proxy-login.js';
import { err, ok, pop3Text, renderFailure } from './responses.js';
import type { Pop3SessionContext } from './session-context.js';
import { Pop3SessionState } from './session-state.js';

export interface Pop3SessionOptions {
  socket: net.Socket;
  cid: string;
  /** The socket is already TLS (implicit-TLS listener). */
  tls: boolean;
  authenticator: Authenticator;
  logger: Logger;
  backend: UpstreamTarget;
  master: { user: string; password: Secret };
  secureContext: tls.SecureContext;
  allowPlaintext: boolean;
  greeting?: string;
  /** Where sessions signed in with an application code register, so revocation can end them. */
  registry?: SessionRegistry;
}

/**
 * One POP3 client connection: the AUTHORIZATION-state machine (CAPA, STLS, USER/PASS, AUTH,
 * QUIT; limits and deadlines) and the command dispatcher. AUTH and USER/PASS live in commands/;
 * the policy decision, backend login and splice in proxy-login.ts. Nothing is parsed after login.
 */
export class Pop3Session {
  readonly #o: Pop3SessionOptions;
  readonly #log: Logger;
  readonly #started = Date.now();
  readonly #rawSocket: net.Socket;
  #socket: net.Socket;
  #reader: LineReader;
  #state = Pop3SessionState.NotAuthenticated;
  #tls: boolean;
  /** The name from USER, until PASS (or another USER, or STLS) replaces it. */
  #user: string | undefined;
  #badCommands = 0;
  #authFailures = 0;
  #bytesOut = 0;
  #splice: Splice | undefined;
  #backend: net.Socket | undefined;
  #overallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeReason = 'client-closed';
  /** Why destroy() ended the session, when it was given a reason (e.g. 'revoked'). */
  #destroyReason: string | undefined;
  #unregister: (() => void) | undefined;
  readonly #clientIp: string;
  readonly #clientPort: number;
  readonly #ctx: Pop3SessionContext;

  constructor(o: Pop3SessionOptions) {
    this.#o = o;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.#clientIp = o.socket.remoteAddress ?? '';
    this.#clientPort = o.socket.remotePort ?? 0;
    this.#log = o.logger.child({ cid: o.cid, proto: 'pop3', ip: this.#clientIp });
    this.#reader = this.#newReader(o.socket, 0);
    this.#ctx = this.#context();
  }

  get state(): Pop3SessionState {
    return this.#state;
  }

  /** Ends the session now (server shutdown, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#destroyReason ??= reason;
    this.#closeReason = 'destroyed';
    this.#splice?.destroy();
    this.#backend?.destroy();
    this.#enterClosed();
    this.#socket.destroy();
    this.#rawSocket.destroy();
  }

  /** Runs the session to its end; never rejects. */
  async run(): Promise<void> {
    let stats: SpliceStats | undefined;
    try {
      this.#log.debug({ event: 'connect', tls: this.#tls });
      this.#overallTimer = setTimeout(() => this.#timeout(), limits.preAuthTimeoutMs);
      this.#armIdle();
      if (this.#reader.buffered > 0) {
        // Early talker: bytes before our greeting (clients wait for it; spam bots and scanners do not).
        this.#closeReason = 'early-talker';
        this.#log.info({ event: 'early-talker' });
        this.#close();
        return;
      }
      this.#send(ok(this.#o.greeting ?? pop3Text.greeting));
      stats = await this.#loop();
    } catch (e) {
      if (!(e instanceof SessionOver)) {
        this.#closeReason = 'internal-error';
        this.#log.error({ event: 'session-error', err: errorText(e) });
        this.#close();
      }
    } finally {
      this.#clearTimers();
      this.#unregister?.();
      this.#log.info({
        event: 'close',
        reason: this.#destroyReason ?? (stats ? stats.end : this.#closeReason),
        bytesIn: this.#reader.totalBytes + (stats?.upBytes ?? 0),
        bytesOut: this.#bytesOut + (stats?.downBytes ?? 0),
        durationMs: Date.now() - this.#started,
      });
    }
  }

  async #loop(): Promise<SpliceStats | undefined> {
    for (;;) {
      if (this.#closed()) return undefined;
      let line: Buffer;
      try {
        line = await this.#reader.readLine();
      } catch (e) {
        if (this.#closed()) return undefined;
        this.#onReadError(e);
        continue;
      }
      this.#armIdle();
      const parsed = parsePop3Command(line);
      if (!parsed.ok) {
        if (parsed.why === 'http') throw this.#over('http-request', { event: 'http-request' });
        this.#badCommand(err(parsed.why === 'encoding' ? pop3Text.badEncoding : pop3Text.unknownCommand));
        continue;
      }
      const spliced = await this.#dispatch(parsed.command);
      if (spliced) return spliced.done;
    }
  }

  #onReadError(e: unknown): void {
    if (e instanceof LineReadError) {
      switch (e.reason) {
        case 'closed':
          throw this.#over('client-closed');
        case 'line-too-long':
          return this.#hangUp(pop3Text.tooLong, 'line-too-long');
        case 'total-too-large':
          return this.#hangUp(pop3Text.tooMuchInput, 'too-much-input');
      }
    }
    throw e;
  }

  /** Runs one command; returns the splice when the client is now logged in. */
  async #dispatch(cmd: Pop3Command): Promise<Splice | undefined> {
    switch (cmd.name) {
      case 'CAPA':
        if (cmd.args) return this.#badCommand(err(pop3Text.badArgs));
        this.#send(ok(pop3Text.capaOk));
        for (const cap of this.#capabilities()) this.#send(cap);
        this.#send('.');
        return undefined;
      case 'QUIT':
        this.#send(ok(pop3Text.quitOk));
        throw this.#over('quit');
      case 'STLS':
        await this.#stls(cmd);
        return undefined;
      case 'USER':
        this.#user = userCommand(this.#ctx, cmd.args) ?? this.#user;
        return undefined;
      case 'PASS': {
        const user = this.#user;
        this.#user = undefined;
        return this.#login(passCommand(this.#ctx, user, cmd.args));
      }
      case 'AUTH':
        return this.#login(await authCommand(this.#ctx, cmd.args));
      default:
        return this.#badCommand(err(pop3Text.unknownCommand));
    }
  }

  async #stls(cmd: Pop3Command): Promise<void> {
    if (this.#tls) return this.#badCommand(err(pop3Text.tlsActive));
    if (cmd.args) return this.#badCommand(err(pop3Text.badArgs));
    this.#send(ok(pop3Text.stlsOk));
    const total = this.#reader.totalBytes;
    // Plaintext the client pipelined after STLS is an injection attempt (CVE-2011-0411): drop it.
    const injected = this.#reader.detach();
    if (injected.length) this.#log.warn({ event: 'starttls-injection', bytes: injected.length });
    // RFC 2595 §4: the session starts over after TLS; a USER given in plaintext is forgotten.
    this.#user = undefined;
    this.#state = Pop3SessionState.NotAuthenticated;
    try {
      const secure = await upgradeServerTls(this.#rawSocket, this.#o.secureContext, limits.tlsHandshakeMs);
      this.#socket = secure;
      this.#tls = true;
      this.#reader = this.#newReader(secure, total);
      this.#armIdle();
    } catch (e) {
      this.#log.info({ event: 'tls-failed', err: errorText(e) });
      throw this.#over('tls-failed');
    }
  }

  /** The login step, when the command yielded credentials; the session keeps the sockets for destroy(). */
  async #login(creds: LoginCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, creds);
    if (!proxied) return undefined;
    this.#backend = proxied.backend;
    this.#splice = proxied.splice;
    const d = proxied.decision;
    if (d.via === 'app-code' && this.#o.registry) {
      this.#unregister = this.#o.registry.register({
        protocol: 'pop3',
        codeId: d.codeId,
        codeName: d.codeName,
        user: d.user,
        cid: this.#o.cid,
        clientIp: this.#clientIp,
        destroy: () => this.destroy('revoked'),
      });
    }
    return proxied.splice;
  }

  /** The surface command handlers and the login step act through (see session-context.ts). */
  #context(): Pop3SessionContext {
    const self = this;
    const o = this.#o;
    return {
      cid: o.cid,
      log: this.#log,
      authenticator: o.authenticator,
      backend: o.backend,
      master: o.master,
      allowPlaintext: o.allowPlaintext,
      get tls() {
        return self.#tls;
      },
      get client() {
        return {
          ip: self.#clientIp,
          port: self.#clientPort,
          localIp: self.#rawSocket.localAddress ?? '',
          localPort: self.#rawSocket.localPort ?? 0,
        };
      },
      get state() {
        return self.#state;
      },
      set state(s: Pop3SessionState) {
        self.#state = s;
      },
      closed: () => this.#closed(),
      send: (line) => this.#send(line),
      write: (bytes) => this.#write(bytes),
      badCommand: (line) => this.#badCommand(line),
      fail: (reason, user, mechanism) => this.#fail(reason, user, mechanism),
      readResponseLine: async () => {
        let line: Buffer;
        try {
          line = await this.#reader.readLine();
        } catch (e) {
          this.#onReadError(e);
          throw new SessionOver();
        }
        this.#armIdle();
        return line;
      },
      holdInput: () => {
        this.#reader.pause();
        clearTimeout(this.#idleTimer);
      },
      resumeInput: () => {
        this.#reader.resume();
        this.#armIdle();
      },
      handOver: () => {
        this.#clearTimers();
        return { socket: this.#socket, pending: this.#reader.detach() };
      },
    };
  }

  /** Renders a failed login, logs it, and hangs up after too many. */
  #fail(reason: FailReason, user: string | undefined, mechanism: string): undefined {
    this.#send(renderFailure(reason));
    this.#log.info({ event: 'login', result: 'fail', user, reason, mechanism });
    if (reason === 'malformed') {
      this.#countBad();
      return undefined;
    }
    if (++this.#authFailures >= limits.preAuthMaxAuthFailures) this.#hangUp(undefined, 'too-many-auth-failures');
    return undefined;
  }

  #badCommand(line: string): undefined {
    this.#send(line);
    this.#countBad();
    return undefined;
  }

  #countBad(): void {
    if (++this.#badCommands >= limits.pop3PreAuthMaxBadCommands) this.#hangUp(pop3Text.tooManyBad, 'too-many-bad-commands');
  }

  #capabilities(): string[] {
    return preAuthCapabilities({ tls: this.#tls, starttls: !this.#o.tls, allowPlaintext: this.#o.allowPlaintext });
  }

  #newReader(socket: net.Socket, initialTotalBytes: number): LineReader {
    socket.on('error', (e) => this.#log.debug({ event: 'socket-error', err: e.message }));
    return new LineReader(socket, {
      maxLineBytes: limits.pop3PreAuthLineBytes,
      maxTotalBytes: limits.preAuthTotalBytes,
      initialTotalBytes,
    });
  }

  #send(line: string): void {
    this.#write(Buffer.from(`${line}\r\n`, 'utf8'));
  }

  #write(bytes: Buffer): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#bytesOut += bytes.length;
    this.#socket.write(bytes);
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#timeout(), limits.preAuthIdleMs);
  }

  #timeout(): void {
    const s = this.#state;
    if (s === Pop3SessionState.NotAuthenticated || s === Pop3SessionState.UserGiven || s === Pop3SessionState.Authenticating) {
      this.#hangUp(pop3Text.inactivity, 'timeout');
    }
  }

  /**
   * "-ERR <text>" (when given) and close: POP3 has no unsolicited goodbye, so the last reply is
   * the refusal itself. Throws nothing: the pending read ends the loop.
   */
  #hangUp(text: string | undefined, reason: string): void {
    if (this.#closed()) return;
    if (text) this.#send(err(text));
    this.#closeReason = reason;
    this.#log.info({ event: 'hang-up', reason });
    this.#close();
  }

  #over(reason: string, logLine?: Record<string, unknown>): SessionOver {
    if (logLine) this.#log.info(logLine);
    this.#closeReason = reason;
    this.#close();
    return new SessionOver();
  }

  /** A method, not a field test: the state changes across awaits (timers, destroy()). */
  #closed(): boolean {
    return this.#state === Pop3SessionState.Closed;
  }

  #enterClosed(): void {
    this.#state = Pop3SessionState.Closed;
    this.#clearTimers();
  }

  /** Flushes what was sent, then closes; destroys after limits.closeLingerMs at the latest. */
  #close(): void {
    if (this.#closed()) return;
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

  #clearTimers(): void {
    clearTimeout(this.#overallTimer);
    clearTimeout(this.#idleTimer);
  }
}
