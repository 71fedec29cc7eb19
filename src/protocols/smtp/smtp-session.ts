import type { SmtpBackendLogin } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import type { FailReason } from '../../policy/types.js';
import { ClientConnection } from '../shared/client-connection.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import { LineReadError } from '../shared/line-reader.js';
import { PreAuthRefusals } from '../shared/pre-auth-refusals.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { SessionOver } from '../shared/session-over.js';
import { sessionSurface } from '../shared/session-surface.js';
import type { Splice } from '../shared/splice.js';
import { authCommand } from './commands/auth-command.js';
import { ehloLines } from './ehlo-extensions.js';
import { proxyLogin } from './proxy-login.js';
import { multiline, renderFailure, smtpReply } from './responses.js';
import type { SmtpSessionContext } from './session-context.js';
import { SmtpSessionState } from './session-state.js';
import { heloName, parseSmtpCommand, type SmtpCommand } from './smtp-command.js';

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
 * policy decision, backend login and splice in proxy-login.ts; sockets, deadlines and the close
 * in shared/client-connection.ts. Nothing is parsed after AUTH.
 */
export class SmtpSession {
  readonly #o: SmtpSessionOptions;
  readonly #conn: ClientConnection;
  readonly #ctx: SmtpSessionContext;
  #state = SmtpSessionState.NotAuthenticated;
  /** The client's EHLO/HELO name (forgotten at STARTTLS). */
  #helo: string | undefined;
  readonly #refusals = new PreAuthRefusals({
    maxBadCommands: limits.preAuthMaxBadCommands,
    hangUp: (why) => this.#goodbye(why === 'too-many-bad-commands' ? smtpReply.tooManyErrors : smtpReply.tooManyAuthFailures, why),
  });

  constructor(o: SmtpSessionOptions) {
    this.#o = o;
    this.#conn = new ClientConnection({
      ...o,
      protocol: 'smtp',
      maxLineBytes: limits.smtpLineBytes,
      onTimeout: () => this.#timeout(),
      onClosed: () => {
        this.#state = SmtpSessionState.Closed;
      },
    });
    this.#ctx = this.#context();
  }

  get state(): SmtpSessionState {
    return this.#state;
  }

  /** Ends the session now (server shutdown, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#conn.destroy(reason);
  }

  /** Runs the session to its end; never rejects. */
  run(): Promise<void> {
    return this.#conn.run(async () => {
      this.#conn.send(smtpReply.greeting(this.#o.hostname));
      return this.#conn.commandLoop((reader) => reader.readLine(), (e) => this.#onReadError(e), (line) => this.#command(line));
    });
  }

  /** One command line: parsed, then run; returns the splice when the client is now logged in. */
  async #command(line: Buffer): Promise<Splice | undefined> {
    const parsed = parseSmtpCommand(line);
    if (parsed.ok) return this.#dispatch(parsed.command);
    if (parsed.error === 'http') throw this.#conn.httpRequest();
    return this.#badCommand(smtpReply.badSyntax);
  }

  #onReadError(err: unknown): void {
    if (err instanceof LineReadError) {
      switch (err.reason) {
        case 'closed':
          throw this.#conn.over('client-closed');
        case 'line-too-long':
          this.#conn.send(smtpReply.lineTooLong);
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
        this.#conn.send(smtpReply.ok);
        return undefined;
      case 'QUIT':
        this.#conn.send(smtpReply.bye);
        throw this.#conn.over('quit');
      default:
        if (TRANSACTION_COMMANDS.has(verb)) {
          return this.#badCommand(this.#conn.tls || this.#o.allowPlaintext ? smtpReply.authRequired : smtpReply.starttlsFirst);
        }
        return this.#badCommand(smtpReply.unknownCommand);
    }
  }

  async #hello(verb: 'EHLO' | 'HELO', arg: string): Promise<undefined> {
    const name = heloName(arg);
    if (name === null) return this.#badCommand(verb === 'EHLO' ? smtpReply.ehloSyntax : smtpReply.heloSyntax);
    this.#helo = name;
    if (verb === 'HELO') {
      this.#conn.send(`250 ${this.#o.hostname}`);
      return undefined;
    }
    this.#conn.reader.pause(); // the probe may take a moment; pipelined commands wait in the socket
    const backend = await this.#o.extensions();
    if (this.#conn.closed()) throw new SessionOver();
    this.#conn.reader.resume();
    const lines = ehloLines({
      host: this.#o.hostname,
      backend,
      starttls: !this.#conn.tls,
      auth: this.#conn.tls || this.#o.allowPlaintext,
    });
    for (const l of multiline(250, lines)) this.#conn.send(l);
    return undefined;
  }

  async #starttls(arg: string): Promise<void> {
    if (this.#conn.tls) return this.#badCommand(smtpReply.tlsActive);
    if (arg) return this.#badCommand(smtpReply.starttlsSyntax);
    this.#conn.send(smtpReply.starttlsReady);
    await this.#conn.startTls();
    this.#helo = undefined; // RFC 3207 §4.2: the client starts over with EHLO
  }

  /** The login step, when AUTH yielded credentials; the connection keeps the sockets for destroy(). */
  async #login(creds: LoginCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, creds);
    if (!proxied) return undefined;
    this.#conn.proxying(proxied, this.#o.registry, () => this.destroy('revoked'));
    return proxied.splice;
  }

  /** The surface command handlers and the login step act through (see session-context.ts). */
  #context(): SmtpSessionContext {
    const self = this;
    const o = this.#o;
    return sessionSurface(this.#conn, o, (e) => this.#onReadError(e), {
      backendLogin: o.backendLogin,
      backendLoginMs: o.backendLoginMs,
      get helo() {
        return self.#helo;
      },
      get state() {
        return self.#state;
      },
      set state(s: SmtpSessionState) {
        self.#state = s;
      },
      badCommand: (line: string) => this.#badCommand(line),
      fail: (reason: FailReason, user: string | undefined, mechanism: string) => this.#fail(reason, user, mechanism),
    });
  }

  /** Renders a failed AUTH, logs it, and hangs up after too many. */
  #fail(reason: FailReason, user: string | undefined, mechanism: string): undefined {
    this.#conn.send(renderFailure(reason));
    this.#conn.log.info({ event: 'login', result: 'fail', user, reason, mechanism });
    this.#refusals.loginFailed(reason);
    return undefined;
  }

  #badCommand(line: string): undefined {
    this.#conn.send(line);
    this.#refusals.badCommand();
    return undefined;
  }

  #timeout(): void {
    if (this.#state === SmtpSessionState.NotAuthenticated || this.#state === SmtpSessionState.Authenticating) {
      this.#goodbye(smtpReply.timeout, 'timeout');
    }
  }

  /** A final 421 and close. Throws nothing: the pending read ends the loop. */
  #goodbye(line: string, reason: string): void {
    if (this.#conn.closed()) return;
    this.#conn.send(line);
    this.#conn.log.info({ event: 'bye', reason });
    this.#conn.close(reason);
  }
}
