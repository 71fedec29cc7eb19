import type net from 'node:net';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import { metrics } from '../../core/metrics.js';
import { loginGate, plaintextLoginRefused } from '../../policy/login-gate.js';
import type { FailReason, Protocol } from '../../policy/types.js';
import { ClientConnection } from './client-connection.js';
import type { FrontEndSession, SessionSettings } from './front-end-server.js';
import { LineReadError, type LineReader } from './line-reader.js';
import { safeUser, type LoginCredentials } from './login-credentials.js';
import { type LoggedIn, loginStep, type UpstreamSuccess } from './login-step.js';
import { ParseError } from './parse-error.js';
import { saslExchange, saslResponse } from './sasl-exchange.js';
import { SessionOver } from './session-over.js';
import type { CommandSpec, HangUp, LoginSteps, SaslReplies } from './session-protocol.js';
import { SessionState } from './session-state.js';
import { splice, type Splice, type SpliceStats } from './splice.js';

/**
 * One client session before login, whatever the protocol: the state, the command loop (read,
 * dispatch through the command table, refuse), bad-command and failure counting, the SASL
 * exchange, the login step, the deadlines, the goodbye and the teardown, and the one 'close' log
 * line. Read errors and refusals become wire replies at one place (#readFailed, the refusal
 * table). A protocol supplies its greeting, command reader, command table, refusal table and
 * goodbye; after login its relay (default: a byte splice). Models: go-imap imapserver/conn.go,
 * smtp-server lib/smtp-connection.js.
 */
export abstract class PreAuthSession<C extends { name: string }> implements FrontEndSession {
  protected readonly conn: ClientConnection;
  protected readonly settings: SessionSettings;
  /** The client's self-description (IMAP ID), on its login lines. */
  protected clientName: string | undefined;
  readonly #protocol: Protocol;
  readonly #maxBadCommands: number;
  #state = SessionState.NotAuthenticated;
  #badCommands = 0;
  #authFailures = 0;
  #relay: Splice | undefined;
  #unregister: (() => void) | undefined;

  /** The protocol's command table: one per class (a static), not one per session. */
  protected abstract readonly commands: ReadonlyMap<string, CommandSpec<C, this>>;
  protected abstract greeting(): string[];
  /** The next command off the reader; null for a line that is none (idle deadline left as is). Throws ParseError. */
  protected abstract readCommand(reader: LineReader): Promise<C | null>;
  /** The reply to a command that is unknown (`known` false) or not valid in the current state. */
  protected abstract refuseCommand(cmd: C, known: boolean): string;
  /** The reply to a line the parser refused (not fatal). */
  protected abstract refuseSyntax(err: ParseError): string;
  /** What the client hears before the close (none: just close). */
  protected abstract lastWords(why: HangUp, err?: ParseError): string[];

  constructor(settings: SessionSettings, o: { protocol: Protocol; maxLineBytes: number; maxBadCommands: number }) {
    this.settings = settings;
    this.#protocol = o.protocol;
    this.#maxBadCommands = o.maxBadCommands;
    const { socket, cid, tls, logger, secureContext, peer } = settings; // only these: the connection keeps its options
    this.conn = new ClientConnection({ socket, cid, tls, logger, secureContext, peer, protocol: o.protocol, maxLineBytes: o.maxLineBytes, onTimeout: () => this.#timeout() });
  }

  /** Logged in (proxying). */
  get loggedIn(): boolean {
    return this.#relay !== undefined;
  }

  protected get state(): SessionState {
    return this.conn.closed() ? SessionState.Closed : this.#state;
  }

  /** Runs the session to its end; never rejects. */
  async run(): Promise<void> {
    let stats: SpliceStats | undefined;
    const refusal = this.settings.refusal;
    if (refusal) {
      const why: HangUp = refusal === 'per-ip' ? 'too-many-from-ip' : refusal;
      return this.conn.refuse(this.lastWords(why), why);
    }
    try {
      if (this.conn.start()) {
        // Early talker: bytes before our greeting (clients wait for it; spam bots and scanners do not).
        this.conn.log.info({ event: LogEvent.earlyTalker });
        this.conn.close('early-talker');
        return;
      }
      for (const line of this.greeting()) this.conn.send(line);
      stats = await this.#commandLoop();
    } catch (err) {
      if (!(err instanceof SessionOver)) {
        this.conn.log.error({ event: LogEvent.sessionError, ...logSafeError(err) });
        this.conn.close('internal-error');
      }
    } finally {
      this.conn.stopTimers();
      this.#unregister?.();
      this.conn.log.info({ event: LogEvent.close, ...this.conn.closeFields(stats) });
    }
  }

  /** Ends the session now (server close, revocation); both sockets are closed, nothing is sent. */
  destroy(reason?: string): void {
    this.conn.destroy(reason);
  }

  /**
   * Server shutdown. Before login: the goodbye at once, and close. Logged in: nothing until
   * `graceOver`; then the goodbye at the relay's first reply boundary (within
   * limits.goodbyeWaitMs, else none), and close.
   */
  shutdown(graceOver: boolean): void {
    if (!this.#relay) return this.hangUp('shutdown');
    if (!graceOver) return;
    this.conn.endReason('shutdown');
    this.#relay.goodbyeWhenQuiet(Buffer.from(this.lastWords('shutdown').map((l) => `${l}\r\n`).join('')), limits.goodbyeWaitMs);
  }

  async #commandLoop(): Promise<SpliceStats | undefined> {
    for (;;) {
      if (this.conn.closed()) return undefined;
      let command: C | null;
      try {
        command = await this.readCommand(this.conn.reader);
      } catch (err) {
        if (this.conn.closed()) return undefined;
        this.#readFailed(err);
        continue;
      }
      if (command === null) continue;
      this.conn.armIdle();
      const spec = this.commands.get(command.name);
      if (!spec?.run || !spec.states.includes(this.#state)) this.badCommand(this.refuseCommand(command, spec !== undefined));
      else await spec.run(this, command);
      if (this.#relay) return this.#relay.done;
    }
  }

  /** A failed read, answered: a closed stream, a cap, a refused line. May throw SessionOver. */
  #readFailed(err: unknown): void {
    if (err instanceof LineReadError) {
      if (err.reason === 'closed') throw this.#over('client-closed');
      return this.hangUp(err.reason === 'line-too-long' ? 'line-too-long' : 'too-much-input');
    }
    if (!(err instanceof ParseError)) throw err;
    if (err.reason === 'http-request') {
      // A web request to a mail port: logged and closed without a reply (fail closed).
      this.conn.log.info({ event: LogEvent.httpRequest });
      throw this.#over('http-request');
    }
    if (err.fatal) return this.hangUp('fatal-syntax', err);
    this.badCommand(this.refuseSyntax(err));
  }

  /** Sends the reply to a refused command and hangs up after too many. */
  protected badCommand(line: string): undefined {
    this.conn.send(line);
    this.#countBad();
    return undefined;
  }

  /** Sends a refused login's reply, logs it, and hangs up after too many (malformed counts as a bad command). */
  protected fail(reason: FailReason, reply: string, user: string | undefined, mechanism: string, started?: number): undefined {
    this.conn.send(reply);
    this.conn.log.info({ event: LogEvent.login, result: 'fail', user, reason, mechanism, client: this.clientName });
    metrics.login('proxy', this.#protocol, 'fail', reason, started === undefined ? undefined : (performance.now() - started) / 1000);
    if (reason === 'malformed') this.#countBad();
    else if (++this.#authFailures >= limits.preAuthMaxAuthFailures) this.hangUp('too-many-auth-failures');
    return undefined;
  }

  #countBad(): void {
    if (++this.#badCommands >= this.#maxBadCommands) this.hangUp('too-many-bad-commands');
  }

  /** The protocol's last words and close. Throws nothing: the pending read ends the loop. */
  protected hangUp(why: HangUp, err?: ParseError): void {
    if (this.conn.closed()) return;
    for (const line of this.lastWords(why, err)) this.conn.send(line);
    this.conn.log.info({ event: LogEvent.bye, reason: why });
    this.conn.close(why);
  }

  /** Closes (the reply, if any, is sent) and returns the SessionOver for the command loop to throw. */
  #over(reason: string): SessionOver {
    this.conn.close(reason);
    return new SessionOver();
  }

  /** The reply to QUIT / LOGOUT, then the close. */
  protected quit(lines: string[], reason: string): never {
    for (const line of lines) this.conn.send(line);
    throw this.#over(reason);
  }

  /** Whether a login may be tried here at all (the policy's rule: TLS unless allow_plaintext). */
  protected loginRefused(): boolean {
    return plaintextLoginRefused(this.conn.tls, this.settings.allowPlaintext);
  }

  /**
   * The SASL exchange of AUTHENTICATE / AUTH for PLAIN or LOGIN, the same for every protocol:
   * refused before TLS (unless allow_plaintext), the initial response ("=" is an empty one,
   * RFC 4959), a challenge per step, "*" cancels. Returns the credentials for login(), or
   * undefined when the command was already answered.
   */
  protected async sasl(mech: 'PLAIN' | 'LOGIN', ir: string | undefined, r: SaslReplies): Promise<LoginCredentials | undefined> {
    if (this.loginRefused()) return this.fail('tls-required', r.refusal('tls-required'), undefined, mech);
    this.#state = SessionState.Authenticating;
    const creds = await saslExchange(mech, ir === '=' ? '' : ir, async (prompt) => {
      this.conn.send(r.challenge(prompt));
      return saslResponse(await this.#readResponseLine());
    });
    if (this.conn.closed()) throw new SessionOver();
    this.#state = SessionState.NotAuthenticated;
    if (creds === 'aborted') return this.badCommand(r.aborted);
    if (creds === 'malformed') return this.fail('malformed', r.refusal('malformed'), undefined, mech);
    return creds;
  }

  /** One line that is not a command (a SASL response); a failed read is answered as in the loop. */
  async #readResponseLine(): Promise<Buffer> {
    let line: Buffer;
    try {
      line = await this.conn.reader.readLine();
    } catch (err) {
      this.#readFailed(err);
      throw new SessionOver();
    }
    this.conn.armIdle();
    return line;
  }

  /**
   * The login of a command that yielded credentials: the policy's gate, decision and backend
   * login (login-step.ts), then the reply and the relay. A refusal is answered here and the
   * session reads commands again.
   */
  protected async login<R extends UpstreamSuccess>(c: LoginCredentials, steps: LoginSteps<R>): Promise<void> {
    const started = performance.now();
    const gate = loginGate({ ...c, tls: this.conn.tls }, this.settings.allowPlaintext);
    if (gate) return this.fail(gate, steps.refusal(gate), gate === 'malformed' ? safeUser(c.user) : c.user, c.mechanism, started);
    const { client } = this.conn;
    this.#state = SessionState.LoggingIn;
    this.conn.holdInput();
    const outcome = await loginStep({
      req: { protocol: this.#protocol, ...c, clientIp: client.ip, clientPort: client.port, tls: this.conn.tls, clientName: this.clientName, cid: this.conn.cid },
      authenticator: this.settings.authenticator,
      master: this.settings.master,
      upstream: (credentials) => steps.upstream(credentials),
      log: this.conn.log,
      closed: () => this.conn.closed(),
      logFields: { client: this.clientName },
      appCodeLogFields: this.appCodeLogFields(),
      outOfFiles: (err) => this.settings.gate?.outOfFiles(err, 'backend'),
    });
    if (!outcome.ok) {
      this.#state = SessionState.NotAuthenticated;
      this.conn.resumeInput();
      return this.fail(outcome.reason, steps.refusal(outcome.reason), c.user, c.mechanism, started);
    }
    const { result, decision } = outcome;
    this.conn.send(steps.loggedIn(result));
    metrics.login('proxy', this.#protocol, 'ok', decision.via, (performance.now() - started) / 1000);
    this.#state = SessionState.Proxying;
    const { socket, pending } = this.conn.handOver(); // commands pipelined after the login go to the relay
    if (result.leftover.length) this.conn.write(result.leftover);
    this.#relay = this.relay(socket, result.socket, pending);
    this.conn.relaying(this.#relay, result.socket);
    this.settings.ticket?.loggedIn();
    this.#register(decision);
  }

  /** More fields for the 'login' line of an application-code login (SMTP: its backend login mode). */
  protected appCodeLogFields(): Record<string, unknown> {
    return {};
  }

  /**
   * After login: the client's bytes go to the backend and back. Default: a byte splice with
   * limits.proxyIdleMs; `pending` is what the client pipelined after its login.
   */
  protected relay(client: net.Socket, backend: net.Socket, pending: Buffer): Splice {
    if (pending.length) backend.write(pending);
    return splice(client, backend, { idleMs: limits.proxyIdleMs, lingerMs: limits.spliceLingerMs });
  }

  /** A session signed in with an application code registers, so that revoking the code ends it. */
  #register(d: LoggedIn): void {
    const registry = this.settings.registry;
    if (d.via !== 'app-code' || !registry) return;
    const { cid, client } = this.conn;
    const destroy = () => this.destroy('revoked');
    this.#unregister = registry.register({ protocol: this.#protocol, codeId: d.codeId, codeName: d.codeName, user: d.user, cid, clientIp: client.ip, destroy });
  }

  #timeout(): void {
    const s = this.state;
    if (s === SessionState.NotAuthenticated || s === SessionState.Authenticating) this.hangUp('timeout');
  }
}
