import type net from 'node:net';
import type tls from 'node:tls';
import type { SmtpBackendLogin } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import { errorText } from '../shared/error-text.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import { LineReadError, LineReader } from '../shared/line-reader.js';
import type { SessionRegistry } from '../shared/session-registry.js';
import type { Splice, SpliceStats } from '../shared/splice.js';
import { upgradeServerTls } from '../shared/tls-upgrade.js';
import { authCommand } from './commands/auth-command.js';
import { ehloLines } from './ehlo-extensions.js';
import { proxyLogin } from './proxy-login.js';
import { multiline, renderFailure, smtpReply } from './responses.js';
import type { SmtpSessionContext } from './session-context.js';
import { SessionOver } from './session-over.js';
import { SmtpSessionState } from './session-state.js';
import { heloName, parseSmtpCommand, type SmtpCommand } from './smtp-command.js';
import type { SmtpCredentials } from './smtp-credentials.js';

/** One client session's settings (shared/front-end-server.ts), plus SMTP's own. */
export interface SmtpSessionOptions extends Omit<SessionSettings, 'greeting'> {
  backendLogin: SmtpBackendLogin;
  /** Name in the greeting and the first EHLO line. */
  hostname: string;
  /** The backend's passed-on EHLO extensions (cached probe); null when it could not be asked. */
  extensions(): Promise<string[] | null>;
  backendLoginMs: number;
}

/** Commands of a mail transaction: refused before AUTH (530), never relayed unauthenticated. */
const TRANSACTION_COMMANDS = new Set(['MAIL', 'RCPT', 'DATA', 'BDAT', 'VRFY', 'EXPN', 'ETRN', 'TURN', 'ATRN']);

/**
 * One client connection: the pre-AUTH state machine (greeting, EHLO/HELO, STARTTLS, AUTH, RSET,
 * NOOP, QUIT; limits and deadlines) and the command dispatcher. AUTH lives in commands/; the
 * policy decision, backend login and splice in proxy-login.ts. Nothing is parsed after AUTH.
 */
export class SmtpSession {
  readonly #o: SmtpSessionOptions;
  readonly #log: Logger;
  readonly #started = Date.now();
  readonly #rawSocket: net.Socket;
  #socket: net.Socket;
  #reader: LineReader;
  #state = SmtpSessionState.NotAuthenticated;
  #tls: boolean;
  #helo: string | undefined;
  #badCommands = 0;
  #authFailures = 0;
  #bytesOut = 0;
  #splice: Splice | undefined;
  #backend: net.Socket | undefined;
  #overallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeReason = 'client-closed';
  #destroyReason: string | undefined;
  #unregister: (() => void) | undefined;
  readonly #clientIp: string;
  readonly #clientPort: number;
  readonly #ctx: SmtpSessionContext;

  constructor(o: SmtpSessionOptions) {
    this.#o = o;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.#clientIp = o.socket.remoteAddress ?? '';
    this.#clientPort = o.socket.remotePort ?? 0;
    this.#log = o.logger.child({ cid: o.cid, proto: 'smtp', ip: this.#clientIp });
    this.#reader = this.#newReader(o.socket, 0);
    this.#ctx = this.#context();
  }

  get state(): SmtpSessionState {
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
        // Early talker: bytes before our greeting (real clients wait for it; spam bots do not).
        this.#closeReason = 'early-talker';
        this.#log.info({ event: 'early-talker' });
        this.#close();
        return;
      }
      this.#send(smtpReply.greeting(this.#o.hostname));
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
      let line: Buffer;
      try {
        line = await this.#reader.readLine();
      } catch (err) {
        if (this.#closed()) return undefined;
        this.#onReadError(err);
        continue;
      }
      this.#armIdle();
      const parsed = parseSmtpCommand(line);
      if (!parsed.ok) {
        if (parsed.error === 'http') {
          this.#log.info({ event: 'http-request' });
          throw this.#over('http-request');
        }
        this.#badCommand(smtpReply.badSyntax);
        continue;
      }
      const spliced = await this.#dispatch(parsed.command);
      if (spliced) return spliced.done;
    }
  }

  #onReadError(err: unknown): void {
    if (err instanceof LineReadError) {
      switch (err.reason) {
        case 'closed':
          throw this.#over('client-closed');
        case 'line-too-long':
          this.#send(smtpReply.lineTooLong);
          return this.#goodbye(smtpReply.tooManyErrors, 'line-too-long');
        case 'total-too-large':
          return this.#goodbye(smtpReply.tooMuchInput, 'too-much-input');
      }
    }
    throw err;
  }

  /** Runs one command; returns the splice when the client is now logged in. */
  async #dispatch(cmd: SmtpCommand): Promise<Splice | undefined> {
    const { verb, arg } = cmd;
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.#hello(verb, arg);
      case 'STARTTLS':
        await this.#starttls(arg);
        return undefined;
      case 'AUTH':
        return this.#login(await authCommand(this.#ctx, arg));
      case 'RSET':
      case 'NOOP':
        // RFC 5321 §4.1.1.9: NOOP may carry a string; RSET takes none.
        if (verb === 'RSET' && arg) return this.#badCommand(smtpReply.noArguments('RSET'));
        this.#send(smtpReply.ok);
        return undefined;
      case 'QUIT':
        this.#send(smtpReply.bye);
        throw this.#over('quit');
      default:
        if (TRANSACTION_COMMANDS.has(verb)) {
          return this.#badCommand(this.#tls || this.#o.allowPlaintext ? smtpReply.authRequired : smtpReply.starttlsFirst);
        }
        return this.#badCommand(smtpReply.unknownCommand);
    }
  }

  async #hello(verb: 'EHLO' | 'HELO', arg: string): Promise<undefined> {
    const name = heloName(arg);
    if (name === null) return this.#badCommand(verb === 'EHLO' ? smtpReply.ehloSyntax : smtpReply.heloSyntax);
    this.#helo = name;
    if (verb === 'HELO') {
      this.#send(`250 ${this.#o.hostname}`);
      return undefined;
    }
    this.#reader.pause(); // the probe may take a moment; pipelined commands wait in the socket
    const backend = await this.#o.extensions();
    if (this.#closed()) throw new SessionOver();
    this.#reader.resume();
    const lines = ehloLines({
      host: this.#o.hostname,
      backend,
      starttls: !this.#tls,
      auth: this.#tls || this.#o.allowPlaintext,
    });
    for (const l of multiline(250, lines)) this.#send(l);
    return undefined;
  }

  async #starttls(arg: string): Promise<void> {
    if (this.#tls) return this.#badCommand(smtpReply.tlsActive);
    if (arg) return this.#badCommand(smtpReply.starttlsSyntax);
    this.#send(smtpReply.starttlsReady);
    const total = this.#reader.totalBytes;
    // Plaintext the client pipelined after STARTTLS is an injection attempt (CVE-2011-0411): drop it.
    const injected = this.#reader.detach();
    if (injected.length) this.#log.warn({ event: 'starttls-injection', bytes: injected.length });
    try {
      const secure = await upgradeServerTls(this.#rawSocket, this.#o.secureContext, limits.tlsHandshakeMs);
      this.#socket = secure;
      this.#tls = true;
      this.#helo = undefined; // RFC 3207 §4.2: the client starts over with EHLO
      this.#reader = this.#newReader(secure, total);
      this.#armIdle();
    } catch (err) {
      this.#log.info({ event: 'tls-failed', err: errorText(err) });
      throw this.#over('tls-failed');
    }
  }

  /** The login step, when AUTH yielded credentials; the session keeps the sockets for destroy(). */
  async #login(creds: SmtpCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, creds);
    if (!proxied) return undefined;
    this.#backend = proxied.backend;
    this.#splice = proxied.splice;
    const d = proxied.decision;
    if (d.via === 'app-code' && this.#o.registry) {
      this.#unregister = this.#o.registry.register({
        protocol: 'smtp',
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
  #context(): SmtpSessionContext {
    const self = this;
    const o = this.#o;
    return {
      cid: o.cid,
      log: this.#log,
      authenticator: o.authenticator,
      backend: o.backend,
      backendLogin: o.backendLogin,
      master: o.master,
      allowPlaintext: o.allowPlaintext,
      backendLoginMs: o.backendLoginMs,
      get tls() {
        return self.#tls;
      },
      get helo() {
        return self.#helo;
      },
      get client() {
        return { ip: self.#clientIp, port: self.#clientPort };
      },
      get state() {
        return self.#state;
      },
      set state(s: SmtpSessionState) {
        self.#state = s;
      },
      closed: () => this.#closed(),
      send: (line) => this.#send(line),
      badCommand: (line) => this.#badCommand(line),
      fail: (reason, user, mechanism) => this.#fail(reason, user, mechanism),
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

  /** Renders a failed AUTH, logs it, and hangs up after too many. */
  #fail(reason: FailReason, user: string | undefined, mechanism: string): undefined {
    this.#send(renderFailure(reason));
    this.#log.info({ event: 'login', result: 'fail', user, reason, mechanism });
    if (reason === 'malformed') {
      this.#countBad();
      return undefined;
    }
    if (++this.#authFailures >= limits.preAuthMaxAuthFailures) this.#goodbye(smtpReply.tooManyAuthFailures, 'too-many-auth-failures');
    return undefined;
  }

  #badCommand(line: string): undefined {
    this.#send(line);
    this.#countBad();
    return undefined;
  }

  #countBad(): void {
    if (++this.#badCommands >= limits.preAuthMaxBadCommands) this.#goodbye(smtpReply.tooManyErrors, 'too-many-bad-commands');
  }

  #newReader(socket: net.Socket, initialTotalBytes: number): LineReader {
    socket.on('error', (err) => this.#log.debug({ event: 'socket-error', err: err.message }));
    return new LineReader(socket, {
      maxLineBytes: limits.smtpLineBytes,
      maxTotalBytes: limits.preAuthTotalBytes,
      initialTotalBytes,
    });
  }

  #send(line: string): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    const bytes = Buffer.from(`${line}\r\n`, 'utf8');
    this.#bytesOut += bytes.length;
    this.#socket.write(bytes);
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#timeout(), limits.preAuthIdleMs);
  }

  #timeout(): void {
    if (this.#state === SmtpSessionState.NotAuthenticated || this.#state === SmtpSessionState.Authenticating) {
      this.#goodbye(smtpReply.timeout, 'timeout');
    }
  }

  /** A final 421 and close. Throws nothing: the pending read ends the loop. */
  #goodbye(line: string, reason: string): void {
    if (this.#closed()) return;
    this.#send(line);
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
    return this.#state === SmtpSessionState.Closed;
  }

  #enterClosed(): void {
    this.#state = SmtpSessionState.Closed;
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
