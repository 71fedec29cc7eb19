import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../../core/host-port.js';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import { isOutOfFiles } from '../../core/open-files.js';
import type { Secret } from '../../core/secret.js';
import type { SecureContextSource } from '../../core/secure-context-holder.js';
import type { Authenticator, Protocol } from '../../policy/types.js';
import type { Admission, ConnectionGate, Ticket } from './connection-gate.js';
import { newConnectionId } from './connection-id.js';
import { startListener, type Listener } from './listener.js';
import type { Peer, ProxyProtocolGate } from './proxy-protocol.js';
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
  /** The TLS listeners' context: fixed, or a holder `serve` swaps on SIGHUP (read at each handshake). */
  secureContext: SecureContextSource;
  allowPlaintext: boolean;
  /** The connection limits, shared by every front end of the process; absent: no limits. */
  gate?: ConnectionGate;
  /** Replaces the greeting's text (tests, branding). */
  greeting?: string;
  /** Sessions signed in with an application code register here (see revocation-watcher.ts). */
  registry?: SessionRegistry;
  /**
   * Backend connections opened ahead of logins (upstream-spares.ts); 0 or absent: connect at each
   * login. Only for backends whose upstream login takes them (IMAP).
   */
  backendSpares?: number;
  /** [server] proxy_protocol_from: the listeners read a balancer's PROXY header first (proxy-protocol.ts). */
  proxyProtocol?: ProxyProtocolGate;
}

/** What one client session is started with: the front end's settings and its socket. */
export interface SessionSettings extends Omit<FrontEndSettings, 'listen' | 'listenTls' | 'backendSpares' | 'proxyProtocol'> {
  socket: net.Socket;
  /** The client's ends as the listener learnt them (a PROXY header's, else the socket's). */
  peer?: Peer;
  /** Connection id, on every log line of the session. */
  cid: string;
  /** The socket is already TLS (implicit-TLS listener). */
  tls: boolean;
  /** Its place in the connection limits; the session reports its login. */
  ticket?: Ticket;
  /** Refused before the greeting: the session says the protocol's words for it and closes. */
  refusal?: Exclude<Admission, 'ok'>;
}

/** What a front end needs of one client session. */
export interface FrontEndSession {
  /** Runs the session to its end; never rejects. */
  run(): Promise<void>;
  /** Logged in (proxying). */
  readonly loggedIn: boolean;
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
   * is closed (and so does a client let in later, e.g. one that waited for a place); logged-in
   * sessions run on for `graceMs`, then hear the goodbye where a reply boundary allows it and
   * are closed. Resolves when every session is gone, with how many of each there were.
   */
  shutdown(graceMs: number): Promise<ShutdownCounts>;
  /** Live client connections (pre-auth and proxied). */
  connections(): number;
}

/** Sessions a shutdown found: not logged in (goodbye at once) and logged in (goodbye after the grace). */
export interface ShutdownCounts {
  preLogin: number;
  loggedIn: number;
}

/** The listeners of one protocol front end (plaintext and implicit TLS) and its live sessions. */
export async function startFrontEnd(o: FrontEndOptions): Promise<FrontEnd> {
  const { protocol, newSession, listen, listenTls, backendSpares, proxyProtocol, ...rest } = o;
  const log = o.logger.child({ proto: protocol });
  const spares = backendSpares ? new UpstreamSpares(o.backend, backendSpares) : undefined;
  const settings = spares ? { ...rest, backend: { ...rest.backend, spares } } : rest;
  const sessions = new Set<FrontEndSession>();
  const listeners: Listener[] = [];
  let allGone: (() => void) | undefined;

  let shuttingDown = false;
  const gate = o.gate;

  const open = async (address: HostPort, implicitTls: boolean): Promise<Listener> => {
    const listener = await startListener({
      address,
      implicitTls: implicitTls ? { secureContext: o.secureContext, handshakeMs: limits.tlsHandshakeMs } : undefined,
      ...(gate ? { enter: (socket: net.Socket, ip: string) => gate.enter(protocol, ip, socket) } : {}),
      onHandshakeError: (err, remote) => log.debug({ event: LogEvent.tlsFailed, ip: remote.ip, ...logSafeError(err) }),
      onError: (err) => {
        if (isOutOfFiles(err) && gate) gate.outOfFiles(err, 'accept');
        else log.error({ event: LogEvent.listenerError, ...logSafeError(err) });
      },
      proxyProtocol,
      onConnection: (socket, info) => {
        const admission = shuttingDown ? 'shutdown' : (info.ticket?.admission ?? 'ok');
        const session = newSession({
          ...settings,
          socket,
          cid: newConnectionId(),
          tls: info.tls,
          peer: info.peer,
          ...(info.ticket ? { ticket: info.ticket } : {}),
          ...(admission !== 'ok' ? { refusal: admission } : {}),
        });
        sessions.add(session);
        void session.run().finally(() => {
          info.ticket?.release();
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
        shuttingDown = true;
        spares?.close();
        const closed = Promise.all(listeners.map((l) => l.stopAccepting()));
        const loggedIn = [...sessions].filter((s) => s.loggedIn).length;
        const counts = { preLogin: sessions.size - loggedIn, loggedIn };
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
        return counts;
      },
    };
  } catch (err) {
    spares?.close();
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
}
