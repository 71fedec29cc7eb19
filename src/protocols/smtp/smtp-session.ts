import type net from 'node:net';
import type { SmtpBackendLogin } from '../../config/schema.js';
import { limits } from '../../core/limits.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import type { LineReader } from '../shared/line-reader.js';
import { PreAuthSession } from '../shared/pre-auth-session.js';
import { commandTable, type CommandSpec, type HangUp, type LoginSteps } from '../shared/session-protocol.js';
import { SessionOver } from '../shared/session-over.js';
import { AFTER_LOGIN, BEFORE_LOGIN } from '../shared/session-state.js';
import type { Splice } from '../shared/splice.js';
import { smtpRelay } from './command-relay.js';
import { ehloLines } from './ehlo-extensions.js';
import { lastWords, multiline, renderFailure, smtpReply } from './responses.js';
import { heloName, parseSmtpCommand, type SmtpCommand } from './smtp-command.js';
import { upstreamLogin, type UpstreamLoginResult } from './upstream-login.js';

/** One client session's settings (shared/front-end-server.ts), plus SMTP's own. */
export interface SmtpSessionOptions extends Omit<SessionSettings, 'greeting'> {
  /** How an application code logs in at Postfix: master login (AUTH PLAIN) or XCLIENT LOGIN. */
  backendLogin: SmtpBackendLogin;
  /** Name in the greeting and the first EHLO line. */
  hostname: string;
  /** The backend's passed-on EHLO extensions (cached probe); null when it could not be asked. */
  extensions(): Promise<string[] | null>;
  /** Deadline of the whole backend login (limits.backendLoginMs unless a test shortens it). */
  backendLoginMs: number;
}

/** Commands of a mail transaction: valid only after AUTH (530 before), never relayed unauthenticated. */
const TRANSACTION_COMMANDS = ['MAIL', 'RCPT', 'DATA', 'BDAT', 'VRFY', 'EXPN', 'ETRN', 'TURN', 'ATRN'];

/**
 * One SMTP submission client before AUTH (RFC 5321, 3207, 4954): what SMTP says and does on the
 * skeleton of shared/pre-auth-session.ts — the greeting, the command table (EHLO, HELO,
 * STARTTLS, AUTH, RSET, NOOP, QUIT; the transaction commands are refused until AUTH), the
 * refusal table (responses.ts) and the backend login (upstream-login.ts: the user's own AUTH for
 * passthrough, the master login or XCLIENT LOGIN for an application code). After AUTH the
 * client is still read at command boundaries (command-relay.ts).
 */
export class SmtpSession extends PreAuthSession<SmtpCommand> {
  readonly #o: SmtpSessionOptions;
  /** The client's EHLO/HELO name (forgotten at STARTTLS). */
  #helo: string | undefined;
  /** The backend extensions the client's last EHLO was shown (null: Postfix could not be asked). */
  #extensions: string[] | null = null;

  static readonly #commands = commandTable<SmtpCommand, SmtpSession>({
    EHLO: { states: BEFORE_LOGIN, run: (s, c) => s.#hello(c) },
    HELO: { states: BEFORE_LOGIN, run: (s, c) => s.#hello(c) },
    STARTTLS: { states: BEFORE_LOGIN, run: (s, c) => s.#starttls(c) },
    AUTH: { states: BEFORE_LOGIN, run: (s, c) => s.#auth(c) },
    // RFC 5321 §4.1.1.9: NOOP may carry a string; RSET takes none.
    RSET: { states: BEFORE_LOGIN, run: (s, c) => (c.arg ? void s.badCommand(smtpReply.noArguments('RSET')) : s.conn.send(smtpReply.ok)) },
    NOOP: { states: BEFORE_LOGIN, run: (s) => s.conn.send(smtpReply.ok) },
    QUIT: { states: BEFORE_LOGIN, run: (s) => s.quit([smtpReply.bye], 'quit') },
    ...Object.fromEntries(TRANSACTION_COMMANDS.map((name) => [name, { states: AFTER_LOGIN }])),
  });

  protected get commands(): ReadonlyMap<string, CommandSpec<SmtpCommand, SmtpSession>> {
    return SmtpSession.#commands;
  }

  constructor(o: SmtpSessionOptions) {
    super(o, { protocol: 'smtp', maxLineBytes: limits.smtpLineBytes, maxBadCommands: limits.preAuthMaxBadCommands });
    this.#o = o;
  }

  protected greeting(): string[] {
    return [smtpReply.greeting(this.#o.hostname)];
  }

  protected async readCommand(reader: LineReader): Promise<SmtpCommand> {
    return parseSmtpCommand(await reader.readLine());
  }

  protected refuseCommand(_c: SmtpCommand, known: boolean): string {
    if (!known) return smtpReply.unknownCommand;
    return this.loginRefused() ? smtpReply.starttlsFirst : smtpReply.authRequired;
  }

  protected refuseSyntax(): string {
    return smtpReply.badSyntax;
  }

  protected lastWords(why: HangUp): string[] {
    return lastWords(why);
  }

  async #hello(c: SmtpCommand): Promise<void> {
    const name = heloName(c.arg);
    if (name === null) return void this.badCommand(c.name === 'EHLO' ? smtpReply.ehloSyntax : smtpReply.heloSyntax);
    this.#helo = name;
    if (c.name === 'HELO') return this.conn.send(`250 ${this.#o.hostname}`);
    this.conn.reader.pause(); // the probe may take a moment; pipelined commands wait in the socket
    this.#extensions = await this.#o.extensions();
    if (this.conn.closed()) throw new SessionOver();
    this.conn.reader.resume();
    const lines = ehloLines({ host: this.#o.hostname, backend: this.#extensions, starttls: !this.conn.tls, auth: !this.loginRefused() });
    for (const l of multiline(250, lines)) this.conn.send(l);
  }

  async #starttls(c: SmtpCommand): Promise<void> {
    if (this.conn.tls) return void this.badCommand(smtpReply.tlsActive);
    if (c.arg) return void this.badCommand(smtpReply.starttlsSyntax);
    this.conn.send(smtpReply.starttlsReady);
    await this.conn.startTls();
    this.#helo = undefined; // RFC 3207 §4.2: the client starts over with EHLO
  }

  /** AUTH PLAIN | LOGIN [initial-response] (RFC 4954): after EHLO, before MAIL. */
  async #auth(c: SmtpCommand): Promise<void> {
    const parts = c.arg.split(' ').filter((s) => s !== '');
    const mech = parts[0]?.toUpperCase();
    if (!mech || parts.length > 2) return void this.badCommand(smtpReply.authSyntax);
    if (this.#helo === undefined) return void this.badCommand(smtpReply.sendHeloFirst);
    // Postfix's order: before TLS even an unknown mechanism hears 538.
    if (this.loginRefused()) return void this.fail('tls-required', renderFailure('tls-required'), undefined, mech === 'LOGIN' ? 'LOGIN' : 'PLAIN');
    if (mech !== 'PLAIN' && mech !== 'LOGIN') return void this.badCommand(smtpReply.authMechanism);
    const creds = await this.sasl(mech, parts[1], { challenge: (b64) => `334 ${b64}`, aborted: smtpReply.authAborted, refusal: renderFailure });
    if (creds) await this.login(creds, this.#steps(this.#helo));
  }

  #steps(helo: string): LoginSteps<Extract<UpstreamLoginResult, { ok: true }>> {
    const o = this.#o;
    return {
      refusal: renderFailure,
      upstream: (credentials) =>
        upstreamLogin({
          backend: o.backend,
          credentials: credentials.kind === 'master' && o.backendLogin === 'xclient' ? { kind: 'xclient', user: credentials.user } : credentials,
          client: this.conn.client,
          helo,
          deadlineMs: o.backendLoginMs,
        }),
      loggedIn: () => smtpReply.authOk,
    };
  }

  protected override appCodeLogFields(): Record<string, unknown> {
    return { backendLogin: this.#o.backendLogin };
  }

  /**
   * After AUTH: the command relay (command-relay.ts), which keeps XCLIENT, XFORWARD, STARTTLS and
   * AUTH from Postfix and answers EHLO with the list the client saw before, without STARTTLS.
   */
  protected override relay(client: net.Socket, backend: net.Socket, pending: Buffer): Splice {
    const ehlo = ehloLines({ host: this.#o.hostname, backend: this.#extensions, starttls: false, auth: true });
    return smtpRelay(client, backend, pending, { tls: this.conn.tls, hostname: this.#o.hostname, ehlo, log: this.conn.log });
  }
}
