import type { ClientConnection } from './client-connection.js';
import type { SessionSettings } from './front-end-server.js';
import type { LoginSessionSurface } from './login-and-splice.js';
import type { UpstreamTarget } from './upstream-connect.js';

/**
 * What command handlers and the login step may see and do of one client session, whatever the
 * protocol. The protocol's own context (ImapSessionContext, Pop3SessionContext,
 * SmtpSessionContext) adds its state enum and its failure replies.
 */
export interface SessionSurface extends LoginSessionSurface {
  readonly backend: UpstreamTarget;
  /** Sends one line (CRLF added). */
  send(line: string): void;
  /**
   * Reads one line that is not a command (a SASL response) and re-arms the idle deadline. A read
   * failure is answered as in the command loop and throws SessionOver.
   */
  readResponseLine(): Promise<Buffer>;
}


/**
 * Builds a session's context: the shared surface over its connection (a failed SASL read goes to
 * `onReadError`, the session's answer to read failures), plus the protocol's own members (`extra`, whose getters and setters stay live: they are copied as property descriptors).
 */
export function sessionSurface<X extends object>(
  conn: ClientConnection,
  s: Pick<SessionSettings, 'authenticator' | 'backend' | 'master' | 'allowPlaintext'>,
  onReadError: (err: unknown) => void,
  extra: X,
): SessionSurface & X {
  const base: SessionSurface = {
    cid: conn.cid,
    log: conn.log,
    authenticator: s.authenticator,
    backend: s.backend,
    master: s.master,
    allowPlaintext: s.allowPlaintext,
    get tls() {
      return conn.tls;
    },
    client: conn.client,
    closed: () => conn.closed(),
    send: (line) => conn.send(line),
    write: (bytes) => conn.write(bytes),
    readResponseLine: () => conn.readResponseLine(onReadError),
    holdInput: () => conn.holdInput(),
    resumeInput: () => conn.resumeInput(),
    handOver: () => conn.handOver(),
  };
  return Object.defineProperties(base, Object.getOwnPropertyDescriptors(extra)) as SessionSurface & X;
}
