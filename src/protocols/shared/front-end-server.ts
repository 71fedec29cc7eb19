import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import type { HostPort } from '../../core/host-port.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { Authenticator, Protocol } from '../../policy/types.js';
import { newConnectionId } from './connection-id.js';
import { startListener, type Listener } from './listener.js';
import type { SessionRegistry } from './session-registry.js';
import type { UpstreamTarget } from './upstream-connect.js';
import { UpstreamSpares } from './upstream-spares.js';

/** What `serve` gives a protocol front end (startImapServer, startPop3Server, startSmtpServer). */
export interface FrontEndSettings {
  authenticator: Authenticator;
  logger: Logger;
  /** Plaintext + STARTTLS/STLS listener, or null / absent for off. */
  listen?: HostPort | null;
  /** Implicit-TLS listener, or null / absent for off. */
  listenTls?: HostPort | null;
  backend: UpstreamTarget;
  master: { user: string; password: Secret };
  secureContext: tls.SecureContext;
  allowPlaintext: boolean;
  /** Replaces the greeting's text (tests, branding). */
  greeting?: string;
  /** Sessions signed in with an application code register here (see revocation-watcher.ts). */
  registry?: SessionRegistry;
  /**
   * Backend connections opened ahead of logins (upstream-spares.ts); 0 or absent: connect at each
   * login. Only for backends whose upstream login takes them (IMAP).
   */
  backendSpares?: number;
}

/** What one client session is started with: the front end's settings and its socket. */
export interface SessionSettings extends Omit<FrontEndSettings, 'listen' | 'listenTls' | 'backendSpares'> {
  socket: net.Socket;
  /** Connection id, on every log line of the session. */
  cid: string;
  /** The socket is already TLS (implicit-TLS listener). */
  tls: boolean;
}

/** What a front end needs of one client session. */
export interface FrontEndSession {
  /** Runs the session to its end; never rejects. */
  run(): Promise<void>;
  /** Ends the session now (close). */
  destroy(): void;
  /**
   * Server shutdown: before login, the protocol's goodbye at once and close; once logged in,
   * nothing until `graceOver`, then the goodbye (at a reply boundary) and close.
   */
  shutdown(graceOver: boolean): void;
}

export interface FrontEndOptions extends FrontEndSettings {
  protocol: Protocol;
  /** One session per accepted client (after the handshake on the implicit-TLS listener). */
  newSession: (settings: SessionSettings) => FrontEndSession;
}

export interface FrontEnd {
  plain?: AddressInfo;
  tls?: AddressInfo;
  /** Stops accepting and ends every live session at once, without a word (proxied ones too). */
  close(): Promise<void>;
  /**
   * Stops accepting at once; every session not logged in hears the protocol's goodbye at once and
   * is closed; logged-in sessions run on for `graceMs`, then hear the goodbye where a reply
   * boundary allows it and are closed. Resolves when every session is gone.
   */
  shutdown(graceMs: number): Promise<void>;
  /** Live client connections (pre-auth and proxied). */
  connections(): number;
}

/** The listeners of one protocol front end (plaintext and implicit TLS) and its live sessions. */
export async function startFrontEnd(o: FrontEndOptions): Promise<FrontEnd> {
  const { protocol, newSession, listen, listenTls, backendSpares, ...rest } = o;
  const log = o.logger.child({ proto: protocol });
  const spares = backendSpares ? new UpstreamSpares(o.backend, backendSpares) : undefined;
  const settings = spares ? { ...rest, backend: { ...rest.backend, spares } } : rest;
  const sessions = new Set<FrontEndSession>();
  const listeners: Listener[] = [];
  let allGone: (() => void) | undefined;

  const open = async (address: HostPort, implicitTls: boolean): Promise<Listener> => {
    const listener = await startListener({
      address,
      implicitTls: implicitTls ? { secureContext: o.secureContext, handshakeMs: limits.tlsHandshakeMs } : undefined,
      onHandshakeError: (err, remote) => log.debug({ event: LogEvent.tlsFailed, ip: remote.ip, ...logSafeError(err) }),
      onConnection: (socket, info) => {
        const session = newSession({ ...settings, socket, cid: newConnectionId(), tls: info.tls });
        sessions.add(session);
        void session.run().finally(() => {
          sessions.delete(session);
          if (sessions.size === 0) allGone?.();
        });
        return session;
      },
    });
    listeners.push(listener);
    log.info({ event: LogEvent.listening, address: `${listener.address.address}:${listener.address.port}`, tls: implicitTls });
    return listener;
  };

  try {
    const plain = listen ? await open(listen, false) : undefined;
    const secure = listenTls ? await open(listenTls, true) : undefined;
    return {
      plain: plain?.address,
      tls: secure?.address,
      connections: () => sessions.size,
      close: async () => {
        spares?.close();
        await Promise.all(listeners.map((l) => l.close()));
        for (const s of [...sessions]) s.destroy();
      },
      shutdown: async (graceMs) => {
        spares?.close();
        const closed = Promise.all(listeners.map((l) => l.stopAccepting()));
        log.info({ event: LogEvent.stopping, sessions: sessions.size, graceMs });
        const gone = new Promise<void>((resolve) => {
          allGone = resolve;
          if (sessions.size === 0) resolve();
        });
        for (const s of [...sessions]) s.shutdown(false);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        for (const s of [...sessions]) s.shutdown(true);
        await gone;
        await closed;
      },
    };
  } catch (err) {
    spares?.close();
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
}
