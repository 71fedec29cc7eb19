import { limits } from '../../core/limits.js';
import { Secret } from '../../core/secret.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import type { LineReader } from '../shared/line-reader.js';
import type { ParseError } from '../shared/parse-error.js';
import { PreAuthSession } from '../shared/pre-auth-session.js';
import { commandTable, type CommandSpec, type HangUp, type LoginSteps } from '../shared/session-protocol.js';
import { BEFORE_LOGIN } from '../shared/session-state.js';
import { preAuthCapabilities, SASL_MECHANISMS } from './capabilities.js';
import { parsePop3Command, type Pop3Command } from './pop3-command.js';
import { err, lastWords, ok, pop3Text, renderFailure } from './responses.js';
import { pop3UpstreamLogin, type Pop3UpstreamLoginResult } from './upstream-login.js';

/**
 * One POP3 client in the AUTHORIZATION state (RFC 1939, 2449, 5034): what POP3 says and does on
 * the skeleton of shared/pre-auth-session.ts — the greeting, the command table (CAPA, STLS, USER,
 * PASS, AUTH, QUIT), the refusal table (responses.ts) and the backend login (upstream-login.ts).
 * Nothing is parsed after login.
 */
export class Pop3Session extends PreAuthSession<Pop3Command> {
  /** The name from USER, until PASS (or an AUTH, or STLS) takes it; other commands keep it, as Dovecot does. */
  #user: string | undefined;

  static readonly #commands = commandTable<Pop3Command, Pop3Session>({
    CAPA: { states: BEFORE_LOGIN, run: (s, c) => s.#capa(c) },
    QUIT: { states: BEFORE_LOGIN, run: (s) => s.quit([ok(pop3Text.quitOk)], 'quit') },
    STLS: { states: BEFORE_LOGIN, run: (s, c) => s.#stls(c) },
    USER: { states: BEFORE_LOGIN, run: (s, c) => s.#userCommand(c) },
    PASS: { states: BEFORE_LOGIN, run: (s, c) => s.#pass(c) },
    AUTH: { states: BEFORE_LOGIN, run: (s, c) => s.#auth(c) },
  });

  protected get commands(): ReadonlyMap<string, CommandSpec<Pop3Command, Pop3Session>> {
    return Pop3Session.#commands;
  }

  constructor(o: SessionSettings) {
    super(o, { protocol: 'pop3', maxLineBytes: limits.pop3PreAuthLineBytes, maxBadCommands: limits.pop3PreAuthMaxBadCommands });
  }

  protected greeting(): string[] {
    return [ok(this.settings.greeting ?? pop3Text.greeting)];
  }

  protected async readCommand(reader: LineReader): Promise<Pop3Command> {
    return parsePop3Command(await reader.readLine());
  }

  protected refuseCommand(): string {
    return err(pop3Text.unknownCommand);
  }

  protected refuseSyntax(e: ParseError): string {
    return err(e.reason === 'encoding' ? pop3Text.badEncoding : pop3Text.unknownCommand);
  }

  protected lastWords(why: HangUp): string[] {
    return lastWords(why);
  }

  #capa(c: Pop3Command): void {
    if (c.args) return void this.badCommand(err(pop3Text.badArgs));
    this.conn.send(ok(pop3Text.capaOk));
    for (const cap of preAuthCapabilities({ tls: this.conn.tls, starttls: !this.conn.implicitTls, loginRefused: this.loginRefused() })) {
      this.conn.send(cap);
    }
    this.conn.send('.');
  }

  async #stls(c: Pop3Command): Promise<void> {
    if (this.conn.tls) return void this.badCommand(err(pop3Text.tlsActive));
    if (c.args) return void this.badCommand(err(pop3Text.badArgs));
    this.conn.send(ok(pop3Text.stlsOk));
    // RFC 2595 §4: the session starts over after TLS; a USER given in plaintext is forgotten.
    this.#user = undefined;
    await this.conn.startTls();
  }

  /** USER name (RFC 1939 §7); a second USER replaces the name. Refused before TLS unless allow_plaintext, like Dovecot. */
  #userCommand(c: Pop3Command): void {
    if (this.loginRefused()) return void this.fail('tls-required', renderFailure('tls-required'), undefined, 'USER');
    if (c.args === '') return void this.badCommand(err(pop3Text.badArgs));
    this.#user = c.args;
    this.conn.send(ok(pop3Text.userOk));
  }

  /** PASS secret (RFC 1939 §7), after USER; the rest of the line is the secret (spaces included). */
  async #pass(c: Pop3Command): Promise<void> {
    const user = this.#user;
    this.#user = undefined;
    if (user === undefined) return void this.badCommand(err(pop3Text.noUser));
    await this.login({ mechanism: 'USER', user, secret: new Secret(c.args) }, this.#steps);
  }

  /**
   * AUTH [mechanism [initial-response]] (RFC 5034): without arguments, the mechanism list (the
   * pre-RFC form clients still send); with PLAIN or LOGIN, the SASL exchange.
   */
  async #auth(c: Pop3Command): Promise<void> {
    const parts = c.args === '' ? [] : c.args.split(' ');
    if (parts.length === 0) {
      this.conn.send(ok(pop3Text.authListOk));
      if (!this.loginRefused()) for (const m of SASL_MECHANISMS) this.conn.send(m);
      return this.conn.send('.');
    }
    if (parts.length > 2 || parts.some((p) => p === '')) return void this.badCommand(err(pop3Text.badArgs));
    const mech = (parts[0] as string).toUpperCase();
    if (mech !== 'PLAIN' && mech !== 'LOGIN') return void this.badCommand(err(pop3Text.unsupportedMechanism));
    const creds = await this.sasl(mech, parts[1], { challenge: (b64) => `+ ${b64}`, aborted: err(pop3Text.authAborted), refusal: renderFailure });
    if (!creds) return;
    this.#user = undefined;
    await this.login(creds, this.#steps);
  }

  readonly #steps: LoginSteps<Extract<Pop3UpstreamLoginResult, { ok: true }>> = {
    refusal: renderFailure,
    upstream: (credentials) => pop3UpstreamLogin({ backend: this.settings.backend, credentials, client: this.conn.client, log: this.conn.log }),
    loggedIn: () => ok(pop3Text.loginOk),
  };
}
