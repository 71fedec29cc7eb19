import type net from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, FailReason } from '../../policy/types.js';
import type { UpstreamTarget } from '../shared/upstream-connect.js';
import type { Pop3SessionState } from './session-state.js';

/**
 * What a command handler or the login step may see and do of one POP3 client session. The
 * session (pop3-session.ts) owns the sockets, the reader, the timers and the state; handlers act
 * through this surface only.
 */
export interface Pop3SessionContext {
  readonly cid: string;
  /** Child logger carrying cid, proto and ip. */
  readonly log: Logger;
  readonly authenticator: Authenticator;
  readonly backend: UpstreamTarget;
  readonly master: { user: string; password: Secret };
  readonly allowPlaintext: boolean;
  /** The client connection is TLS now (implicit, or after STLS). */
  readonly tls: boolean;
  /** The client's address and the local address it connected to (forwarded to the backend). */
  readonly client: { ip: string; port: number; localIp: string; localPort: number };
  state: Pop3SessionState;
  /** True once the session is closed (it can close across any await: timers, destroy()). */
  closed(): boolean;
  /** Sends one line (CRLF added). */
  send(line: string): void;
  /** Sends raw bytes to the client. */
  write(bytes: Buffer): void;
  /** Sends an -ERR reply and counts it towards limits.pop3PreAuthMaxBadCommands. */
  badCommand(line: string): undefined;
  /** Renders a failed login, logs it, and hangs up after too many. */
  fail(reason: FailReason, user: string | undefined, mechanism: string): undefined;
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
