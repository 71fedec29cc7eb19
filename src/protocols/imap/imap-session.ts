import { limits } from '../../core/limits.js';
import { Secret } from '../../core/secret.js';
import type { SessionSettings } from '../shared/front-end-server.js';
import type { LineReader } from '../shared/line-reader.js';
import type { ParseError } from '../shared/parse-error.js';
import { PreAuthSession } from '../shared/pre-auth-session.js';
import { commandTable, type CommandSpec, type HangUp, type LoginSteps } from '../shared/session-protocol.js';
import { AFTER_LOGIN, BEFORE_LOGIN } from '../shared/session-state.js';
import { preAuthCapabilities } from './capabilities.js';
import { clientNameFromId } from './client-name-from-id.js';
import { astring, type ImapCommand } from './imap-command.js';
import { POST_AUTH_COMMANDS } from './post-auth-commands.js';
import { readImapCommand } from './read-imap-command.js';
import { badCommand, imapText, lastWords, renderFailure, syntaxRefusal } from './responses.js';
import { upstreamLogin, type UpstreamLoginResult } from './upstream-login.js';

/**
 * One IMAP client before login (RFC 3501 / 9051 not-authenticated state): what IMAP says and
 * does on the skeleton of shared/pre-auth-session.ts — the greeting, the command reader, the
 * command table (CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN, AUTHENTICATE; the commands of
 * later states are refused as "not permitted"), the refusal table (responses.ts) and the backend
 * login (upstream-login.ts). Nothing is parsed after login.
 */
export class ImapSession extends PreAuthSession<ImapCommand> {
  static readonly #commands = commandTable<ImapCommand, ImapSession>({
    CAPABILITY: { states: BEFORE_LOGIN, run: (s, c) => s.#capability(c) },
    NOOP: { states: BEFORE_LOGIN, run: (s, c) => s.conn.send(`${c.tag} OK ${imapText.noopOk}`) },
    LOGOUT: { states: BEFORE_LOGIN, run: (s, c) => s.quit([`* BYE ${imapText.logoutBye}`, `${c.tag} OK ${imapText.logoutOk}`], 'logout') },
    ID: { states: BEFORE_LOGIN, run: (s, c) => s.#id(c) },
    STARTTLS: { states: BEFORE_LOGIN, run: (s, c) => s.#starttls(c) },
    LOGIN: { states: BEFORE_LOGIN, run: (s, c) => s.#login(c) },
    AUTHENTICATE: { states: BEFORE_LOGIN, run: (s, c) => s.#authenticate(c) },
    ...Object.fromEntries([...POST_AUTH_COMMANDS].map((name) => [name, { states: AFTER_LOGIN }])),
  });

  protected get commands(): ReadonlyMap<string, CommandSpec<ImapCommand, ImapSession>> {
    return ImapSession.#commands;
  }

  constructor(o: SessionSettings) {
    super(o, { protocol: 'imap', maxLineBytes: limits.preAuthLineBytes, maxBadCommands: limits.preAuthMaxBadCommands });
  }

  protected greeting(): string[] {
    return [`* OK [CAPABILITY ${this.#capabilities()}] ${this.settings.greeting ?? imapText.greeting}`];
  }

  protected readCommand(reader: LineReader): Promise<ImapCommand | null> {
    return readImapCommand(reader, { onLiteralContinuation: () => this.conn.send('+ OK') });
  }

  protected refuseCommand(c: ImapCommand, known: boolean): string {
    return badCommand(c.tag, c.name, known ? imapText.notPermitted : imapText.unknownCommand);
  }

  protected refuseSyntax(err: ParseError): string {
    return syntaxRefusal(err);
  }

  protected lastWords(why: HangUp, err?: ParseError): string[] {
    return lastWords(why, err);
  }

  #capability(c: ImapCommand): void {
    if (c.args.length) return void this.badCommand(badCommand(c.tag, c.name, imapText.badInvalidArgs));
    this.conn.send(`* CAPABILITY ${this.#capabilities()}`);
    this.conn.send(`${c.tag} OK ${imapText.capabilityOk}`);
  }

  #id(c: ImapCommand): void {
    const clientName = clientNameFromId(c.args);
    if (clientName === null) return void this.badCommand(badCommand(c.tag, c.name, imapText.badInvalidArgs));
    if (clientName !== undefined) this.clientName = clientName;
    this.conn.send('* ID ("name" "twostep")');
    this.conn.send(`${c.tag} OK ${imapText.idOk}`);
  }

  async #starttls(c: ImapCommand): Promise<void> {
    if (this.conn.tls) return void this.badCommand(`${c.tag} BAD ${imapText.starttlsActive}`);
    if (c.args.length) return void this.badCommand(badCommand(c.tag, c.name, imapText.badInvalidArgs));
    this.conn.send(`${c.tag} OK ${imapText.starttlsOk}`);
    await this.conn.startTls();
  }

  /** LOGIN user password (RFC 3501 6.2.3). */
  async #login(c: ImapCommand): Promise<void> {
    const user = astring(c.args[0]);
    const pass = astring(c.args[1]);
    if (c.args.length !== 2 || user === null || pass === null) return void this.badCommand(badCommand(c.tag, c.name, imapText.badInvalidArgs));
    await this.login({ mechanism: 'LOGIN', user, secret: new Secret(pass) }, this.#steps(c.tag));
  }

  /** AUTHENTICATE PLAIN | LOGIN [initial-response] (RFC 3501 6.2.2, SASL-IR RFC 4959). */
  async #authenticate(c: ImapCommand): Promise<void> {
    const mech = astring(c.args[0])?.toUpperCase();
    const ir = c.args[1];
    if (!mech || c.args.length > 2 || (ir && ir.kind !== 'atom')) return void this.badCommand(badCommand(c.tag, c.name, imapText.badInvalidArgs));
    if (mech !== 'PLAIN' && mech !== 'LOGIN') return this.conn.send(`${c.tag} NO ${imapText.unsupportedMechanism}`);
    const steps = this.#steps(c.tag);
    const creds = await this.sasl(mech, ir?.kind === 'atom' ? ir.value : undefined, {
      challenge: (b64) => `+ ${b64}`,
      aborted: `${c.tag} BAD ${imapText.authAborted}`,
      refusal: steps.refusal,
    });
    if (creds) await this.login(creds, steps);
  }

  #steps(tag: string): LoginSteps<Extract<UpstreamLoginResult, { ok: true }>> {
    return {
      refusal: (reason) => renderFailure(tag, reason),
      upstream: (credentials) => upstreamLogin({ backend: this.settings.backend, credentials, client: this.conn.client }),
      loggedIn: (result) => `${tag} OK [CAPABILITY ${result.capabilities}] ${imapText.loginOk}`,
    };
  }

  #capabilities(): string {
    return preAuthCapabilities({ tls: this.conn.tls, starttls: !this.conn.implicitTls, loginRefused: this.loginRefused() });
  }
}
