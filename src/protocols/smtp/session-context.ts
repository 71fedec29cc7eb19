import type net from 'node:net';
import type { SmtpBackendLogin } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import type { SmtpSessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one client session. The session
 * (smtp-session.ts) owns the sockets, the reader, the timers and the state; handlers act
 * through this surface only.
 */
export interface SmtpSessionContext {
  readonly cid: string;
  /** Child logger carrying cid, proto and ip. */
  readonly log: Logger;
  readonly authenticator: Authenticator;
  readonly backend: UpstreamTarget;
  readonly backendLogin: SmtpBackendLogin;
  readonly master: { user: string; password: Secret };
  readonly allowPlaintext: boolean;
  /** Deadline of the whole backend login (limits.backendLoginMs unless a test shortens it). */
  readonly backendLoginMs: number;
  /** The client connection is TLS now (implicit, or after STARTTLS). */
  readonly tls: boolean;
  /** The client's EHLO/HELO name, once it sent one (since the last STARTTLS). */
  readonly helo: string | undefined;
  readonly client: { ip: string; port: number };
  state: SmtpSessionState;
  /** True once the session is closed (it can close across any await: timers, destroy()). */
  closed(): boolean;
  /** Sends one reply line (CRLF added). */
  send(line: string): void;
  /** Sends a 5xx for a refused command and counts it towards limits.preAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed AUTH, logs it, and hangs up after too many. */
  fail(reason: FailReason, user: string | undefined, mechanism: string): undefined;
  /** Reads one SASL response line and re-arms the idle deadline; a read failure throws SessionOver. */
  readResponseLine(): Promise<Buffer>;
  /** Stops reading the client and its idle deadline while the login runs. */
  holdInput(): void;
  /** Reads the client again with a fresh idle deadline (after a failed login). */
  resumeInput(): void;
  /**
   * Hands the client connection over for splicing: clears the pre-auth deadlines, stops the
   * reader and returns the socket with the bytes the client pipelined after its AUTH.
   */
  handOver(): { socket: net.Socket; pending: Buffer };
}
