import net, { type AddressInfo } from 'node:net';
import type { HostPort } from '../../core/host-port.js';
import { limits } from '../../core/limits.js';
import { currentSecureContext, type SecureContextSource } from '../../core/secure-context-holder.js';
import type { Ticket } from './connection-gate.js';
import { ownEnds, type Peer, type ProxyProtocolGate } from './proxy-protocol.js';
import { upgradeServerTls } from './tls-upgrade.js';
import { ignoreError } from './ignore-error.js';

/** What a listener can end on close(): a protocol session. */
export interface Closable {
  destroy(): void;
}

export interface ListenerOptions {
  /** Where to listen (port 0 picks a free one). */
  address: HostPort;
  /** Implicit TLS: every accepted socket is wrapped before onConnection sees it (the context read at each handshake). */
  implicitTls?: { secureContext: SecureContextSource; handshakeMs: number };
  /**
   * Decides, before the first byte or handshake, whether the connection is served (the
   * connection limits); it may make it wait for a place. Absent: every connection is.
   */
  enter?(socket: net.Socket, remoteIp: string): Ticket | Promise<Ticket>;
  /** Called once per connection (after the handshake for implicit TLS); returns the session. */
  onConnection(socket: net.Socket, info: ConnectionInfo): Closable;
  /** [server] proxy_protocol_from: balancers' connections start with a PROXY header (proxy-protocol.ts). */
  proxyProtocol?: ProxyProtocolGate;
  /** Called when an implicit-TLS handshake fails (for a debug log line). */
  onHandshakeError?(err: Error, remote: { ip: string; port: number }): void;
  /** The listening socket failed once listening (accept() with EMFILE when libuv could not cope). */
  onError?(err: Error): void;
}

export interface ConnectionInfo {
  tls: boolean;
  remoteIp: string;
  remotePort: number;
  /** The client's ends: from the PROXY header behind a balancer, else the socket's. */
  peer: Peer;
  /** What enter() decided (absent without enter()). */
  ticket?: Ticket;
}

export interface Listener {
  address: AddressInfo;
  /** Stops accepting, destroys live sessions (and pending handshakes), resolves when closed. */
  close(): Promise<void>;
  /**
   * Stops accepting at once and ends the TLS handshakes in progress; live sessions go on (their
   * front end ends them). Resolves when the last connection is gone.
   */
  stopAccepting(): Promise<void>;
  /** Live sessions, including connections still in their TLS handshake. */
  connections(): number;
}

/**
 * A TCP listener; for implicit TLS the sockets are wrapped with the same server-side upgrade
 * that STARTTLS uses, so both paths share one handshake deadline and one code path.
 */
export function startListener(o: ListenerOptions): Promise<Listener> {
  const { host, port } = o.address;
  const live = new Set<Closable>();
  const handshakes = new Set<Closable>();
  let accepting = true;

  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', ignoreError); // sessions log what matters; an unhandled error must not crash
    if (!accepting) {
      socket.destroy(); // accepted by the kernel as the listener closed
      return;
    }
    if (!o.proxyProtocol) return accepted(socket, ownEnds(socket));
    // Behind a balancer: the header first (before the limits, which count the real client, and
    // before TLS), then the connection as usual.
    // Declared before accept() because `waiting` may be destroyed while accept() runs.
    // eslint-disable-next-line prefer-const
    let gate: Closable | undefined;
    const waiting: Closable = { destroy: () => (gate ? gate.destroy() : socket.destroy()) };
    live.add(waiting);
    handshakes.add(waiting);
    gate = o.proxyProtocol.accept(socket, (peer) => {
      live.delete(waiting);
      handshakes.delete(waiting);
      if (!accepting) return void socket.destroy();
      accepted(socket, peer);
    });
  });

  /** The connection limits (enter), then the session, after the handshake for implicit TLS. */
  const accepted = (socket: net.Socket, peer: Peer): void => {
    const serve = (ticket: Ticket | undefined): void => {
      if (socket.destroyed) {
        ticket?.release();
        return;
      }
      const info: ConnectionInfo = { tls: false, remoteIp: peer.ip, remotePort: peer.port, peer };
      if (ticket) info.ticket = ticket;
      if (!o.implicitTls) {
        const session = o.onConnection(socket, info);
        live.add(session);
        socket.on('close', () => live.delete(session)); // 'close' comes once: on(), no once() wrapper kept per session
        return;
      }
      handshake(socket, info, o.implicitTls);
    };
    const entered = o.enter?.(socket, peer.ip);
    if (!(entered instanceof Promise)) return serve(entered);
    // Waiting for a place (no greeting yet): close() ends it, stopAccepting() leaves it to the gate.
    const waiting: Closable = { destroy: () => socket.destroy() };
    live.add(waiting);
    void entered.then((ticket) => {
      live.delete(waiting);
      serve(ticket);
    });
  };

  const handshake = (socket: net.Socket, info: ConnectionInfo, t: NonNullable<ListenerOptions['implicitTls']>): void => {
    const pending: Closable = { destroy: () => socket.destroy() };
    live.add(pending);
    handshakes.add(pending);
    // A connection accepted only to be refused gets a shorter handshake: its words are all it gets.
    const ms = info.ticket && info.ticket.admission !== 'ok' ? Math.min(t.handshakeMs, limits.refusalHandshakeMs) : t.handshakeMs;
    upgradeServerTls(socket, currentSecureContext(t.secureContext), ms).then(
      (tlsSocket) => {
        live.delete(pending);
        handshakes.delete(pending);
        tlsSocket.on('error', ignoreError);
        const session = o.onConnection(tlsSocket, { ...info, tls: true });
        live.add(session);
        const forget = (): boolean => live.delete(session);
        tlsSocket.on('close', forget);
        socket.on('close', forget);
      },
      (err: Error) => {
        live.delete(pending);
        handshakes.delete(pending);
        info.ticket?.release();
        o.onHandshakeError?.(err, { ip: info.remoteIp, port: info.remotePort });
      },
    );
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      server.on('error', (err) => o.onError?.(err)); // listening: never an unhandled 'error'
      const stop = (alsoSessions: boolean) =>
        new Promise<void>((done) => {
          accepting = false;
          server.close(() => done());
          for (const s of [...(alsoSessions ? live : handshakes)]) s.destroy();
          if (alsoSessions) live.clear();
        });
      resolve({
        address: server.address() as AddressInfo,
        connections: () => live.size,
        close: () => stop(true),
        stopAccepting: () => stop(false),
      });
    });
  });
}
