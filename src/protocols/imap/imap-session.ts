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
import { clientNameFromId } from './client-name-from-id.js';
import { authenticateCommand } from './commands/authenticate-command.js';
import { loginCommand } from './commands/login-command.js';
import { ImapSyntaxError, type ImapCommand } from './imap-command.js';
import { POST_AUTH_COMMANDS } from './post-auth-commands.js';
import { proxyLogin } from './proxy-login.js';
import { readImapCommand } from './read-imap-command.js';
import { badCommand, imapText, notPermittedCommand, renderFailure, unknownCommand } from './responses.js';
import type { ImapSessionContext } from './session-context.js';
import { ImapSessionState } from './session-state.js';

export type ImapSessionOptions = SessionSettings;

/**
 * One client connection: the pre-auth state machine (commands, STARTTLS, limits, deadlines) and
 * the command dispatcher. AUTHENTICATE and LOGIN live in commands/; the policy decision, backend
 * login and splice in proxy-login.ts; sockets, deadlines and the close in
 * shared/client-connection.ts. Nothing is parsed after login.
 */
export class ImapSession {
  readonly #o: ImapSessionOptions;
  readonly #conn: ClientConnection;
  readonly #ctx: ImapSessionContext;
  #state = ImapSessionState.NotAuthenticated;
  #clientName: string | undefined;
  readonly #refusals = new PreAuthRefusals({
    maxBadCommands: limits.preAuthMaxBadCommands,
    hangUp: (why) => this.#bye(why === 'too-many-bad-commands' ? imapText.tooManyBad : imapText.tooManyAuthFailures, why),
  });

  constructor(o: ImapSessionOptions) {
    this.#o = o;
    this.#conn = new ClientConnection({
      ...o,
      protocol: 'imap',
      maxLineBytes: limits.preAuthLineBytes,
      onTimeout: () => this.#timeout(),
      onClosed: () => {
        this.#state = ImapSessionState.Closed;
      },
    });
    this.#ctx = this.#context();
  }

  get state(): ImapSessionState {
    return this.#state;
  }

  /** Ends the session now (server shutdown, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.#conn.destroy(reason);
  }

  /** Runs the session to its end; never rejects. */
  run(): Promise<void> {
    return this.#conn.run(async () => {
      this.#conn.send(`* OK [CAPABILITY ${this.#capabilities()}] ${this.#o.greeting ?? imapText.greeting}`);
      return this.#conn.commandLoop(
        (reader) => readImapCommand(reader, { onLiteralContinuation: () => this.#send('+ OK') }),
        (e) => this.#onReadError(e),
        (cmd) => this.#dispatch(cmd),
      );
    });
  }

  #onReadError(err: unknown): void {
    if (err instanceof LineReadError) {
      switch (err.reason) {
        case 'closed':
          throw this.#conn.over('client-closed');
        case 'line-too-long':
          this.#send(`* BAD ${imapText.tooLongBad}`);
          return this.#bye(imapText.tooLong, 'line-too-long');
        case 'total-too-large':
          return this.#bye(imapText.tooMuchInput, 'too-much-input');
      }
    }
    if (err instanceof ImapSyntaxError) {
      if (err.http) throw this.#conn.httpRequest();
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
        throw this.#conn.over('logout');
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
    if (this.#conn.tls) return this.#badCommand(`${tag} BAD ${imapText.starttlsActive}`);
    if (cmd.args.length) return this.#badCommand(badCommand(tag, 'STARTTLS', imapText.badInvalidArgs));
    this.#send(`${tag} OK ${imapText.starttlsOk}`);
    await this.#conn.startTls();
  }

  /** The login step, when the command yielded credentials; the connection keeps the sockets for destroy(). */
  async #login(tag: string, creds: LoginCredentials | undefined): Promise<Splice | undefined> {
    if (!creds) return undefined;
    const proxied = await proxyLogin(this.#ctx, tag, creds);
    if (!proxied) return undefined;
    this.#conn.proxying(proxied, this.#o.registry, () => this.destroy('revoked'));
    return proxied.splice;
  }

  /** The surface command handlers and the login step act through (see session-context.ts). */
  #context(): ImapSessionContext {
    const self = this;
    return sessionSurface(this.#conn, this.#o, (e) => this.#onReadError(e), {
      get clientName() {
        return self.#clientName;
      },
      get state() {
        return self.#state;
      },
      set state(s: ImapSessionState) {
        self.#state = s;
      },
      badCommand: (line: string) => this.#badCommand(line),
      fail: (tag: string, reason: FailReason, user: string | undefined, mechanism: string) => this.#fail(tag, reason, user, mechanism),
    });
  }

  /** Renders a failed login, logs it, and hangs up after too many. */
  #fail(tag: string, reason: FailReason, user: string | undefined, mechanism: string): undefined {
    this.#send(renderFailure(tag, reason));
    this.#conn.log.info({ event: 'login', result: 'fail', user, reason, mechanism, client: this.#clientName });
    this.#refusals.loginFailed(reason);
    return undefined;
  }

  #badCommand(line: string): undefined {
    this.#send(line);
    this.#refusals.badCommand();
    return undefined;
  }

  #capabilities(): string {
    return preAuthCapabilities({ tls: this.#conn.tls, starttls: !this.#conn.implicitTls, allowPlaintext: this.#o.allowPlaintext });
  }

  #send(line: string): void {
    this.#conn.send(line);
  }

  #timeout(): void {
    if (this.#state === ImapSessionState.NotAuthenticated || this.#state === ImapSessionState.Authenticating) {
      this.#bye(imapText.inactivity, 'timeout');
    }
  }

  /** "* BYE ..." and close. Throws nothing: the pending read ends the loop. */
  #bye(text: string, reason: string): void {
    if (this.#conn.closed()) return;
    this.#send(`* BYE ${text}`);
    this.#conn.log.info({ event: 'bye', reason });
    this.#conn.close(reason);
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
