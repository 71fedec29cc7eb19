import type net from 'node:net';
import type tls from 'node:tls';
import { isTwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { Logger } from '../../core/logger.js';
import { Secret } from '../../core/secret.js';
import type { AuthDecision, AuthRequest, Authenticator, FailReason } from '../../policy/types.js';
import { LineReadError, LineReader } from '../shared/line-reader.js';
import { decodeSaslPlain } from '../shared/sasl-plain.js';
import { SaslLogin } from '../shared/sasl-login.js';
import { splice, type Splice, type SpliceStats } from '../shared/splice.js';
import { upgradeServerTls } from '../shared/tls-upgrade.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import { preAuthCapabilities } from './capabilities.js';
import { clientNameFromId } from './client-name-from-id.js';
import { astring, ImapSyntaxError, type ImapCommand } from './imap-command.js';
import { POST_AUTH_COMMANDS } from './post-auth-commands.js';
import { readImapCommand } from './read-imap-command.js';
import { badCommand, imapText, notPermittedCommand, renderFailure, unknownCommand } from './responses.js';
import { ImapSessionState } from './session-state.js';
import { upstreamLogin, type UpstreamCredentials, type UpstreamLoginResult } from './upstream-login.js';

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
}

/** Parsed login credentials, before the policy sees them. */
interface Credentials {
  mechanism: string;
  user: string;
  authzid?: string;
  secret: Secret;
}

/** Ends the command loop: the session is closed (or handed to the splice). */
class SessionOver extends Error {}

const CONTROL = /[\p{Cc}]/u;

/**
 * One client connection: the pre-auth state machine (commands, STARTTLS, limits, deadlines),
 * the policy decision, the backend login, and then the splice. Nothing is parsed after login.
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
  readonly #clientIp: string;
  readonly #clientPort: number;

  constructor(o: ImapSessionOptions) {
    this.#o = o;
    this.#rawSocket = o.socket;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.#clientIp = o.socket.remoteAddress ?? '';
    this.#clientPort = o.socket.remotePort ?? 0;
    this.#log = o.logger.child({ cid: o.cid, proto: 'imap', ip: this.#clientIp });
    this.#reader = this.#newReader(o.socket, 0);
  }

  get state(): ImapSessionState {
    return this.#state;
  }

  /** Ends the session now (server shutdown, revocation). */
  destroy(): void {
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
        this.#log.error({ event: 'session-error', err: errText(err) });
        this.#close();
      }
    } finally {
      this.#clearTimers();
      this.#log.info({
        event: 'close',
        reason: stats ? stats.end : this.#closeReason,
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
      case 'LOGIN': {
        const user = astring(cmd.args[0]);
        const pass = astring(cmd.args[1]);
        if (cmd.args.length !== 2 || user === null || pass === null) {
          return this.#badCommand(badCommand(tag, name, imapText.badInvalidArgs));
        }
        return this.#login(tag, { mechanism: 'LOGIN', user, secret: new Secret(pass) });
      }
      case 'AUTHENTICATE':
        return this.#authenticate(tag, cmd);
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
      this.#log.info({ event: 'tls-failed', err: errText(err) });
      throw this.#over('tls-failed');
    }
  }

  async #authenticate(tag: string, cmd: ImapCommand): Promise<Splice | undefined> {
    const mech = astring(cmd.args[0])?.toUpperCase();
    const irArg = cmd.args[1];
    if (!mech || cmd.args.length > 2 || (irArg && irArg.kind !== 'atom')) {
      return this.#badCommand(badCommand(tag, 'AUTHENTICATE', imapText.badInvalidArgs));
    }
    if (mech !== 'PLAIN' && mech !== 'LOGIN') {
      this.#send(`${tag} NO ${imapText.unsupportedMechanism}`);
      return undefined;
    }
    if (!this.#tls && !this.#o.allowPlaintext) return this.#fail(tag, 'tls-required', undefined, mech === 'PLAIN' ? 'PLAIN' : 'AUTH=LOGIN');
    // RFC 4959: "=" is an empty initial response.
    const ir = irArg?.kind === 'atom' ? (irArg.value === '=' ? '' : irArg.value) : undefined;

    this.#state = ImapSessionState.Authenticating;
    let creds: Credentials | 'malformed' | 'aborted';
    if (mech === 'PLAIN') {
      const response = ir ?? (await this.#saslStep(''));
      if (response === null) creds = 'aborted';
      else {
        const plain = decodeSaslPlain(response);
        creds = plain.ok
          ? { mechanism: 'PLAIN', user: plain.authcid, authzid: plain.authzid || undefined, secret: plain.password }
          : 'malformed';
      }
    } else {
      creds = await this.#saslLogin(ir);
    }
    if (this.#closed()) throw new SessionOver();
    this.#state = ImapSessionState.NotAuthenticated;
    if (creds === 'aborted') return this.#badCommand(`${tag} BAD ${imapText.authAborted}`);
    if (creds === 'malformed') return this.#fail(tag, 'malformed', undefined, mech === 'PLAIN' ? 'PLAIN' : 'AUTH=LOGIN');
    return this.#login(tag, creds);
  }

  async #saslLogin(ir: string | undefined): Promise<Credentials | 'malformed' | 'aborted'> {
    const sasl = new SaslLogin();
    let response = ir ?? (await this.#saslStep(sasl.prompt()));
    for (;;) {
      if (response === null) return 'aborted';
      const step = sasl.feed(response);
      if (!step.ok) return 'malformed';
      if (step.done) return { mechanism: 'AUTH=LOGIN', user: step.user, secret: step.password };
      response = await this.#saslStep(step.prompt);
    }
  }

  /** Sends "+ <prompt>" and reads one SASL response line; null when the client cancelled ("*"). */
  async #saslStep(prompt: string): Promise<string | null> {
    this.#send(prompt ? `+ ${prompt}` : '+ ');
    let line: Buffer;
    try {
      line = await this.#reader.readLine();
    } catch (err) {
      this.#onReadError(err);
      throw new SessionOver();
    }
    this.#armIdle();
    const text = line.toString('latin1').trim();
    return text === '*' ? null : text;
  }

  /** Policy decision, backend login, then the splice. */
  async #login(tag: string, c: Credentials): Promise<Splice | undefined> {
    if (!this.#tls && !this.#o.allowPlaintext) return this.#fail(tag, 'tls-required', c.user, c.mechanism);
    if (
      c.user === '' ||
      c.user.length > limits.userNameChars ||
      CONTROL.test(c.user) ||
      c.secret.length > limits.secretChars ||
      c.secret.reveal().includes('\0') ||
      (c.authzid !== undefined && (c.authzid.length > limits.userNameChars || CONTROL.test(c.authzid)))
    ) {
      return this.#fail(tag, 'malformed', safeUser(c.user), c.mechanism);
    }
    const req: AuthRequest = {
      protocol: 'imap',
      mechanism: c.mechanism,
      user: c.user,
      authzid: c.authzid,
      secret: c.secret,
      clientIp: this.#clientIp,
      clientPort: this.#clientPort,
      tls: this.#tls,
      clientName: this.#clientName,
      cid: this.#o.cid,
    };
    this.#state = ImapSessionState.LoggingIn;
    this.#reader.pause();
    clearTimeout(this.#idleTimer);

    const decision = await this.#decide(req);
    if (this.#closed()) throw new SessionOver();
    if (!decision.ok) return this.#afterFailure(tag, decision.reason, req);

    const credentials: UpstreamCredentials =
      decision.via === 'passthrough'
        ? { kind: 'passthrough', user: req.user, password: req.secret }
        : { kind: 'master', user: decision.user, masterUser: this.#o.master.user, masterPassword: this.#o.master.password };
    let result: UpstreamLoginResult;
    try {
      result = await upstreamLogin({
        backend: this.#o.backend,
        credentials,
        client: {
          ip: this.#clientIp,
          port: this.#clientPort,
          localIp: this.#rawSocket.localAddress ?? '',
          localPort: this.#rawSocket.localPort ?? 0,
        },
      });
    } catch (err) {
      this.#log.error({ event: 'backend-error', user: req.user, via: decision.via, code: isTwostepError(err) ? err.code : 'INTERNAL', err: errText(err) });
      if (decision.via === 'passthrough') this.#o.authenticator.reportPassthrough(req, 'backend-unavailable');
      return this.#afterFailure(tag, 'backend-unavailable', req);
    }
    if (!result.ok) {
      if (decision.via === 'passthrough') {
        this.#o.authenticator.reportPassthrough(req, 'rejected');
        return this.#afterFailure(tag, 'invalid-credentials', req);
      }
      this.#log.error({ event: 'backend-error', user: decision.user, via: decision.via, err: 'backend refused the master login' });
      return this.#afterFailure(tag, 'backend-unavailable', req);
    }
    if (this.#closed()) {
      result.socket.destroy();
      throw new SessionOver();
    }

    // Logged in: relay the backend's post-login capabilities, then only copy bytes.
    this.#send(`${tag} OK [CAPABILITY ${result.capabilities}] ${imapText.loginOk}`);
    if (decision.via === 'passthrough') this.#o.authenticator.reportPassthrough(req, 'ok');
    this.#log.info({
      event: 'login',
      result: 'ok',
      user: decision.user,
      via: decision.via,
      mechanism: req.mechanism,
      ...(decision.via === 'app-code' ? { codeId: decision.codeId } : {}),
      client: this.#clientName,
    });
    this.#state = ImapSessionState.Proxying;
    this.#clearTimers();
    const pending = this.#reader.detach(); // commands pipelined after the login go to the backend
    this.#backend = result.socket;
    if (result.leftover.length) this.#write(result.leftover);
    if (pending.length) result.socket.write(pending);
    this.#splice = splice(this.#socket, result.socket, { idleMs: limits.proxyIdleMs, lingerMs: limits.spliceLingerMs });
    return this.#splice;
  }

  async #decide(req: AuthRequest): Promise<AuthDecision> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#o.authenticator.authenticate(req),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('authentication decision timed out')), limits.authDecisionMs);
        }),
      ]);
    } catch (err) {
      this.#log.error({ event: 'policy-error', user: req.user, err: errText(err) });
      return { ok: false, reason: 'backend-unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }

  #afterFailure(tag: string, reason: FailReason, req: AuthRequest): undefined {
    this.#state = ImapSessionState.NotAuthenticated;
    this.#reader.resume();
    this.#armIdle();
    return this.#fail(tag, reason, req.user, req.mechanism);
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

function errText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A user name fit for a log line (a malformed one may be huge or carry control characters). */
function safeUser(user: string): string {
  return user.replace(/[\p{Cc}]/gu, '?').slice(0, 64);
}
