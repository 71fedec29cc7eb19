import type net from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import type { ImapSessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one client session. The session
 * (imap-session.ts) owns the sockets, the reader, the timers and the state; handlers act
 * through this surface only.
 */
export interface ImapSessionContext {
  readonly cid: string;
  /** Child logger carrying cid, proto and ip. */
  readonly log: Logger;
  readonly authenticator: Authenticator;
  readonly backend: UpstreamTarget;
  readonly master: { user: string; password: Secret };
  readonly allowPlaintext: boolean;
  /** The client connection is TLS now (implicit, or after STARTTLS). */
  readonly tls: boolean;
  /** From IMAP ID, when the client sent one. */
  readonly clientName: string | undefined;
  /** The client's address and the local address it connected to (forwarded to the backend). */
  readonly client: { ip: string; port: number; localIp: string; localPort: number };
  state: ImapSessionState;
  /** True once the session is closed (it can close across any await: timers, destroy()). */
  closed(): boolean;
  /** Sends one line (CRLF added). */
  send(line: string): void;
  /** Sends raw bytes to the client. */
  write(bytes: Buffer): void;
  /** Sends a BAD reply and counts it towards limits.preAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed login, logs it, and hangs up after too many. */
  fail(tag: string, reason: FailReason, user: string | undefined, mechanism: string): undefined;
  /**
   * Reads one line that is not a command (a SASL response) and re-arms the idle deadline. A read
   * failure is answered as in the command loop and throws SessionOver.
   */
  readResponseLine(): Promise<Buffer>;
  /** Stops reading the client and its idle deadline while the login runs. */
  holdInput(): void;
  /** Reads the client again with a fresh idle deadline (after a failed login). */
  resumeInput(): void;
  /**
   * Hands the client connection over for splicing: clears the pre-auth deadlines, stops the
   * reader and returns the socket with the bytes the client pipelined after its login.
   */
  handOver(): { socket: net.Socket; pending: Buffer };
}
