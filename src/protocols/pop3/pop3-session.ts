import { limits } from '../../core/limits.js';
import type { FailReason } from '../../policy/types.js';
import { ClientConnection } from '../shared/client-connection.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import { LineReadError } from '../shared/line-reader.js';
import { PreAuthRefusals } from '../shared/pre-auth-refusals.js';
import type { LoginCredentials } from '../shared/login-credentials.js';
import { sessionSurface } from '../shared/session-surface.js';
import type { Splice } from '../shared/splice.js';
import { preAuthCapabilities } from './capabilities.js';
import { authCommand } from './commands/auth-command.js';
import { passCommand, userCommand } from './commands/user-pass-commands.js';
import { parsePop3Command, type Pop3Command } from './pop3-command.js';
import { proxyLogin } from './proxy-login.js';
import { err, ok, pop3Text, renderFailure } from './responses.js';
import type { Pop3SessionContext } from './session-context.js';
import { Pop3SessionState } from './session-state.js';

export type Pop3SessionOptions = SessionSettings;

/**
 * One POP3 client connection: the AUTHORIZATION-state machine (CAPA, STLS, USER/PASS, AUTH,
 * QUIT; limits and deadlines) and the command dispatcher. AUTH and USER/PASS live in commands/;
 * the policy decision, backend login and splice in proxy-login.ts; sockets, deadlines and
 * the close in shared/client-connection.ts. Nothing is parsed after login.
 */
export class Pop3Session {
  readonly #o: Pop3SessionOptions;
  readonly #conn: ClientConnection;
  readonly #ctx: Pop3SessionContext;
  #state = Pop3SessionState.NotAuthenticated;
  /** The name from USER, until PASS (or another USER, or STLS) replaces it. */
  #user: string | undefined;
  readonly #refusals = new PreAuthRefusals({
    maxBadCommands: limits.pop3PreAuthMaxBadCommands,
    hangUp: (why) => this.#hangUp(why === 'too-many-bad-commands' ? pop3Text.tooManyBad : undefined, why),
  });

  constructor(o: Pop3SessionOptions) {
    this.#o = o;
    this.#conn = new ClientConnection({
      ...o,
      protocol: 'pop3',
      maxLineBytes: limits.pop3PreAuthLineBytes,
      onTimeout: () => this.#timeout(),
      onClosed: () => {
        this.#state = Pop3SessionState.Closed;
      },
    });
    this.#ctx = this.#context();
  }

  get state(): Pop3SessionState {
    return this.#state;
  }

  /** Ends the session now (server shutdown, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#conn.destroy(reason);
  }

  /** Runs the session to its end; never rejects. */
  run(): Promise<void> {
    return this.#conn.run(async () => {
      this.#conn.send(ok(this.#o.greeting ?? pop3Text.greeting));
      return this.#conn.commandLoop((reader) => reader.readLine(), (e) => this.#onReadError(e), (line) => this.#command(line));
    });
  }

  /** One command line: parsed, then run; returns the splice when the client is now logged in. */
  async #command(line: Buffer): Promise<Splice | undefined> {
    const parsed = parsePop3Command(line);
    if (parsed.ok) return this.#dispatch(parsed.command);
    if (parsed.why === 'http') throw this.#conn.httpRequest();
    return this.#badCommand(err(parsed.why === 'encoding' ? pop3Text.badEncoding : pop3Text.unknownCommand));
  }

  #onReadError(e: unknown): void {
    if (e instanceof LineReadError) {
      switch (e.reason) {
        case 'closed':
          throw this.#conn.over('client-closed');
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
        this.#conn.send(ok(pop3Text.capaOk));
        for (const cap of this.#capabilities()) this.#conn.send(cap);
        this.#conn.send('.');
        return undefined;
      case 'QUIT':
        this.#conn.send(ok(pop3Text.quitOk));
        throw this.#conn.over('quit');
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
    if (this.#conn.tls) return this.#badCommand(err(pop3Text.tlsActive));
    if (cmd.args) return this.#badCommand(err(pop3Text.badArgs));
    this.#conn.send(ok(pop3Text.stlsOk));
    // RFC 2595 §4: the session starts over after TLS; a USER given in plaintext is forgotten.
    this.#user = undefined;
    this.#state = Pop3SessionState.NotAuthenticated;
    await this.#conn.startTls();
  }

  /** The login step, when the command yielded credentials; the connection keeps the sockets for destroy(). */
  async #login(creds: LoginCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, creds);
    if (!proxied) return undefined;
    this.#conn.proxying(proxied, this.#o.registry, () => this.destroy('revoked'));
    return proxied.splice;
  }

  /** The surface command handlers and the login step act through (see session-context.ts). */
  #context(): Pop3SessionContext {
    const self = this;
    return sessionSurface(this.#conn, this.#o, (e) => this.#onReadError(e), {
      get state() {
        return self.#state;
      },
      set state(s: Pop3SessionState) {
        self.#state = s;
      },
      badCommand: (line: string) => this.#badCommand(line),
      fail: (reason: FailReason, user: string | undefined, mechanism: string) => this.#fail(reason, user, mechanism),
    });
  }

  /** Renders a failed login, logs it, and hangs up after too many. */
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

  #capabilities(): string[] {
    return preAuthCapabilities({ tls: this.#conn.tls, starttls: !this.#conn.implicitTls, allowPlaintext: this.#o.allowPlaintext });
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
    if (this.#conn.closed()) return;
    if (text) this.#conn.send(err(text));
    this.#conn.log.info({ event: 'hang-up', reason });
    this.#conn.close(reason);
  }
}
