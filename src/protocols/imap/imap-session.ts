import type net from 'node:net';
import type tls from 'node:tls';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import { errorText } from '../shared/error-text.js';
import { LineReadError, LineReader } from '../shared/line-reader.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import type { Splice, SpliceStats } from '../shared/splice.js';
import { upgradeServerTls } from '../shared/tls-upgrade.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import { preAuthCapabilities } from './capabilities.js';
import { clientNameFromId } from './client-name-from-id.js';
import { authenticateCommand } from './commands/authenticate-command.js';
import { loginCommand } from './commands/login-command.js';
import { ImapSyntaxError, type ImapCommand } from './imap-command.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { POST_AUTH_COMMANDS } from './post-auth-commands.js';
import { proxyLogin } from './proxy-login.js';
import { readImapCommand } from './read-imap-command.js';
import { badCommand, imapText, notPermittedCommand, renderFailure, unknownCommand } from './responses.js';
import type { ImapSessionContext } from './session-context.js';
import { SessionOver } from '../shared/session-over.js';
import { ImapSessionState } from './session-state.js';

export interface ImapSessionOptions {
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
 * One client connection: the pre-auth state machine (commands, STARTTLS, limits, deadlines) and
 * the command dispatcher. AUTHENTICATE and LOGIN live in commands/; the policy decision, backend
 * login and splice in proxy-login.ts. Nothing is parsed after login.
 */
export class ImapSession {
  readonly #o: ImapSessionOptions;
  readonly #log: Logger;
  readonly #started = Date.now();
  readonly #rawSocket: net.Socket;
  #socket: net.Socket;
  #reader: LineReader;
  #state = ImapSessionState.NotAuthenticated;
  #tls: boolean;
  #clientName: string | undefined;
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
  readonly #ctx: ImapSessionContext;

  constructor(o: ImapSessionOptions) {
    this.#o = o;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.#clientIp = o.socket.remoteAddress ?? '';
    this.#clientPort = o.socket.remotePort ?? 0;
    this.#log = o.logger.child({ cid: o.cid, proto: 'imap', ip: this.#clientIp });
    this.#reader = this.#newReader(o.socket, 0);
    this.#ctx = this.#context();
  }

  get state(): ImapSessionState {
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
      this.#send(`* OK [CAPABILITY ${this.#capabilities()}] ${this.#o.greeting ?? imapText.greeting}`);
      stats = await this.#loop();
    } catch (err) {
      if (!(err instanceof SessionOver)) {
        this.#closeReason = 'internal-error';
        this.#log.error({ event: 'session-error', err: errorText(err) });
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
      let cmd: ImapCommand | null;
      try {
        cmd = await readImapCommand(this.#reader, { onLiteralContinuation: () => this.#send('+ OK') });
      } catch (err) {
        if (this.#closed()) return undefined;
        this.#onReadError(err);
        continue;
      }
      if (cmd === null) continue;
      this.#armIdle();
      const spliced = await this.#dispatch(cmd);
      if (spliced) return spliced.done;
    }
  }

  #onReadError(err: unknown): void {
    if (err instanceof LineReadError) {
      switch (err.reason) {
        case 'closed':
          throw this.#over('client-closed');
        case 'line-too-long':
          this.#send(`* BAD ${imapText.tooLongBad}`);
          return this.#bye(imapText.tooLong, 'line-too-long');
        case 'total-too-large':
          return this.#bye(imapText.tooMuchInput, 'too-much-input');
      }
    }
    if (err instanceof ImapSyntaxError) {
      if (err.http) {
        this.#log.info({ event: 'http-request' });
        this.#closeReason = 'http-request';
        this.#close();
        throw new SessionOver();
      }
      if (err.fatal) {
        this.#send(`* BAD ${err.message === 'literal too big' ? imapText.literalTooBig : 'Invalid command.'}`);
        return this.#bye(imapText.tooLong, 'fatal-syntax');
      }
      const tag = err.tag ?? '*';
      const why = err.tag === undefined ? imapText.badTag : err.message === 'literal too big' ? imapText.literalTooBig : `${capitalize(err.message)}.`;
      this.#badCommand(err.tag === undefined ? `* BAD ${why}` : badCommand(tag, err.command, why));
      return;
    }
    throw err;
  }

  /** Runs one command; returns the splice when the client is now logged in. */
  async #dispatch(cmd: ImapCommand): Promise<Splice | undefined> {
    const { tag, name } = cmd;
    switch (name) {
      case 'CAPABILITY':
        if (cmd.args.length) return this.#badCommand(badCommand(tag, name, imapText.badInvalidArgs));
        this.#send(`* CAPABILITY ${this.#capabilities()}`);
        this.#send(`${tag} OK ${imapText.capabilityOk}`);
        return undefined;
      case 'NOOP':
        this.#send(`${tag} OK ${imapText.noopOk}`);
        return undefined;
      case 'LOGOUT':
        this.#send(`* BYE ${imapText.logoutBye}`);
        this.#send(`${tag} OK ${imapText.logoutOk}`);
        this.#closeReason = 'logout';
        this.#close();
        throw new SessionOver();
      case 'ID': {
        const clientName = clientNameFromId(cmd.args);
        if (clientName === null) return this.#badCommand(badCommand(tag, name, imapText.badInvalidArgs));
        if (clientName !== undefined) this.#clientName = clientName;
        this.#send('* ID ("name" "twostep")');
        this.#send(`${tag} OK ${imapText.idOk}`);
        return undefined;
      }
      case 'STARTTLS':
        await this.#starttls(tag, cmd);
        return undefined;
      case 'LOGIN':
        return this.#login(tag, loginCommand(this.#ctx, tag, cmd));
      case 'AUTHENTICATE':
        return this.#login(tag, await authenticateCommand(this.#ctx, tag, cmd));
      default:
        return this.#badCommand(POST_AUTH_COMMANDS.has(name) ? notPermittedCommand(tag, name) : unknownCommand(tag, name));
    }
  }

  async #starttls(tag: string, cmd: ImapCommand): Promise<void> {
    if (this.#tls) return this.#badCommand(`${tag} BAD ${imapText.starttlsActive}`);
    if (cmd.args.length) return this.#badCommand(badCommand(tag, 'STARTTLS', imapText.badInvalidArgs));
    this.#send(`${tag} OK ${imapText.starttlsOk}`);
    const total = this.#reader.totalBytes;
    // Plaintext the client pipelined after STARTTLS is an injection attempt (CVE-2011-0411): drop it.
    const injected = this.#reader.detach();
    if (injected.length) this.#log.warn({ event: 'starttls-injection', bytes: injected.length });
    try {
      const secure = await upgradeServerTls(this.#rawSocket, this.#o.secureContext, limits.tlsHandshakeMs);
      this.#socket = secure;
      this.#tls = true;
      this.#reader = this.#newReader(secure, total);
      this.#armIdle();
    } catch (err) {
      this.#log.info({ event: 'tls-failed', err: errorText(err) });
      throw this.#over('tls-failed');
    }
  }

  /** The login step, when the command yielded credentials; the session keeps the sockets for destroy(). */
  async #login(tag: string, creds: LoginCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, tag, creds);
    if (!proxied) return undefined;
    this.#backend = proxied.backend;
    this.#splice = proxied.splice;
    const d = proxied.decision;
    if (d.via === 'app-code' && this.#o.registry) {
      this.#unregister = this.#o.registry.register({
        protocol: 'imap',
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
  #context(): ImapSessionContext {
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
      get clientName() {
        return self.#clientName;
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
      set state(s: ImapSessionState) {
        self.#state = s;
      },
      closed: () => this.#closed(),
      send: (line) => this.#send(line),
      write: (bytes) => this.#write(bytes),
      badCommand: (line) => this.#badCommand(line),
      fail: (tag, reason, user, mechanism) => this.#fail(tag, reason, user, mechanism),
      readResponseLine: async () => {
        let line: Buffer;
        try {
          line = await this.#reader.readLine();
        } catch (err) {
          this.#onReadError(err);
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
  #fail(tag: string, reason: FailReason, user: string | undefined, mechanism: string): undefined {
    this.#send(renderFailure(tag, reason));
    this.#log.info({ event: 'login', result: 'fail', user, reason, mechanism, client: this.#clientName });
    if (reason === 'malformed') {
      this.#countBad();
      return undefined;
    }
    if (++this.#authFailures >= limits.preAuthMaxAuthFailures) this.#bye(imapText.tooManyAuthFailures, 'too-many-auth-failures');
    return undefined;
  }

  #badCommand(line: string): undefined {
    this.#send(line);
    this.#countBad();
    return undefined;
  }

  #countBad(): void {
    if (++this.#badCommands >= limits.preAuthMaxBadCommands) this.#bye(imapText.tooManyBad, 'too-many-bad-commands');
  }

  #capabilities(): string {
    return preAuthCapabilities({ tls: this.#tls, starttls: !this.#o.tls, allowPlaintext: this.#o.allowPlaintext });
  }

  #newReader(socket: net.Socket, initialTotalBytes: number): LineReader {
    socket.on('error', (err) => this.#log.debug({ event: 'socket-error', err: err.message }));
    return new LineReader(socket, {
      maxLineBytes: limits.preAuthLineBytes,
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
    if (this.#state === ImapSessionState.NotAuthenticated || this.#state === ImapSessionState.Authenticating) {
      this.#bye(imapText.inactivity, 'timeout');
    }
  }

  /** "* BYE ..." and close. Throws nothing: the pending read ends the loop. */
  #bye(text: string, reason: string): void {
    if (this.#closed()) return;
    this.#send(`* BYE ${text}`);
    this.#closeReason = reason;
    this.#log.info({ event: 'bye', reason });
    this.#close();
  }

  #over(reason: string): SessionOver {
    this.#closeReason = reason;
    this.#close();
    return new SessionOver();
  }

  /** A method, not a field test: the state changes across awaits (timers, destroy()). */
  #closed(): boolean {
    return this.#state === ImapSessionState.Closed;
  }

  #enterClosed(): void {
    this.#state = ImapSessionState.Closed;
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

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
