import net from 'node:net';
import tls from 'node:tls';
import type { AuthDecision, AuthRequest, Authenticator, PassthroughOutcome } from '../../src/policy/types.js';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { ParseError } from '../../src/protocols/shared/parse-error.js';

/**
 * The policy as the front-end unit tests fake it: alice has two-step authentication (application
 * code "app-code-1234"; her main password "alice-main-pw" gets the hint), "throttled" is
 * throttled, every other user passes through. Requests and passthrough reports are recorded.
 */
export class FakeAuthenticator implements Authenticator {
  requests: AuthRequest[] = [];
  reports: PassthroughOutcome[] = [];

  async authenticate(req: AuthRequest): Promise<AuthDecision> {
    this.requests.push(req);
    if (req.user === 'alice') {
      if (req.secret.reveal() === 'app-code-1234') return { ok: true, via: 'app-code', user: 'alice', codeId: 7, codeName: 'phone' };
      return { ok: false, reason: req.secret.reveal() === 'alice-main-pw' ? 'app-code-required' : 'invalid-credentials' };
    }
    if (req.user === 'throttled') return { ok: false, reason: 'throttled', retryAfterMs: 1000 };
    return {
      ok: true,
      via: 'passthrough',
      user: req.user,
      passthrough: {
        settle: async (outcome: PassthroughOutcome) => {
          this.reports.push(outcome);
        },
      },
    };
  }
}

/** A policy that refuses everyone (app-code-required): fuzz tests never get past login. */
export class NeverAuthenticator implements Authenticator {
  calls = 0;
  async authenticate(_req: AuthRequest): Promise<AuthDecision> {
    this.calls++;
    return { ok: false, reason: 'app-code-required' };
  }
}

/** A raw line-based test client (plain or implicit TLS, upgradable in place); protocols add their commands. */
export class LineClient {
  socket: net.Socket;
  reader: LineReader;
  /** Every line received, in order. */
  seen: string[] = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    this.socket.on('error', () => {});
    this.reader = new LineReader(socket, { maxLineBytes: 1_000_000 });
  }

  static async connect<T extends LineClient>(this: new (socket: net.Socket) => T, port: number, implicitTls = false): Promise<T> {
    const socket = implicitTls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((r, j) => socket.once(implicitTls ? 'secureConnect' : 'connect', () => r()).once('error', j));
    return new this(socket);
  }

  async line(): Promise<string> {
    const l = (await this.reader.readLine()).toString();
    this.seen.push(l);
    return l;
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The client side of STARTTLS / STLS, once the server said to begin. */
  async upgrade(): Promise<void> {
    this.reader.detach();
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((r, j) => secure.once('secureConnect', () => r()).once('error', j));
    secure.on('error', () => {});
    this.socket = secure;
    this.reader = new LineReader(secure, { maxLineBytes: 1_000_000 });
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    try {
      for (;;) await this.line();
    } catch {
      /* closed */
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What a command parser makes of a line: the command, or the reason of the ParseError it threw. */
export function parsedOrReason<C>(parse: (line: Buffer) => C, line: Buffer): C | string {
  try {
    return parse(line);
  } catch (e) {
    if (e instanceof ParseError) return e.reason;
    throw e;
  }
}
