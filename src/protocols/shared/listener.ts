import net, { type AddressInfo } from 'node:net';
import type tls from 'node:tls';
import type { HostPort } from '../../core/host-port.js';
import { ownEnds, type Peer, type ProxyProtocolGate } from './proxy-protocol.js';
import { upgradeServerTls } from './tls-upgrade.js';

/** What a listener can end on close(): a protocol session. */
export interface Closable {
  destroy(): void;
}

export interface ListenerOptions {
  /** Where to listen (port 0 picks a free one). */
  address: HostPort;
  /** Implicit TLS: every accepted socket is wrapped before onConnection sees it. */
  implicitTls?: { secureContext: tls.SecureContext; handshakeMs: number };
  /**
   * Called once per connection (after the handshake for implicit TLS); returns the session.
   * `peer`: the client's ends (from the PROXY header behind a balancer, else the socket's).
   */
  onConnection(socket: net.Socket, info: { tls: boolean; remoteIp: string; remotePort: number; peer: Peer }): Closable;
  /** [server] proxy_protocol_from: balancers' connections start with a PROXY header (proxy-protocol.ts). */
  proxyProtocol?: ProxyProtocolGate;
  /** Called when an implicit-TLS handshake fails (for a debug log line). */
  onHandshakeError?(err: Error, remote: { ip: string; port: number }): void;
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
    socket.on('error', () => {}); // sessions log what matters; an unhandled error must not crash
    if (!accepting) {
      socket.destroy(); // accepted by the kernel as the listener closed
      return;
    }
    if (!o.proxyProtocol) return void accepted(socket, ownEnds(socket));
    // Behind a balancer: the header first (before TLS), then the connection as usual.
    let gate: Closable | undefined;
    const waiting: Closable = { destroy: () => (gate ? gate.destroy() : socket.destroy()) };
    live.add(waiting);
    handshakes.add(waiting);
    gate = o.proxyProtocol.accept(socket, (peer) => {
      live.delete(waiting);
      handshakes.delete(waiting);
      return accepting ? accepted(socket, peer) : void socket.destroy();
    });
  });

  const accepted = (socket: net.Socket, peer: Peer): Closable | undefined => {
    const { ip: remoteIp, port: remotePort } = peer;
    if (!o.implicitTls) {
      const session = o.onConnection(socket, { tls: false, remoteIp, remotePort, peer });
      live.add(session);
      socket.once('close', () => live.delete(session));
      return session;
    }
    const pending: Closable = { destroy: () => socket.destroy() };
    live.add(pending);
    handshakes.add(pending);
    upgradeServerTls(socket, o.implicitTls.secureContext, o.implicitTls.handshakeMs).then(
      (tlsSocket) => {
        live.delete(pending);
        handshakes.delete(pending);
        tlsSocket.on('error', () => {});
        const session = o.onConnection(tlsSocket, { tls: true, remoteIp, remotePort, peer });
        live.add(session);
        tlsSocket.once('close', () => live.delete(session));
        socket.once('close', () => live.delete(session));
      },
      (err: Error) => {
        live.delete(pending);
        handshakes.delete(pending);
        o.onHandshakeError?.(err, { ip: remoteIp, port: remotePort });
      },
    );
    return pending;
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
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
