import net from 'node:net';
import tls from 'node:tls';
import { TwostepError } from '../../core/errors.js';
import type { BackendTls } from '../../config/schema.js';
import { connectReusingReadBuffer } from './reused-read-buffer.js';

export interface UpstreamTarget {
  host: string;
  port: number;
  /** none: plain TCP; starttls: plain TCP, the protocol then calls startUpstreamTls(); tls: implicit TLS. */
  tls: BackendTls;
  /** CA bundle to verify the backend certificate; without it the system store is used. */
  ca?: Buffer;
  /** Name checked against the certificate (and sent as SNI); default: the backend host. */
  servername?: string;
  /** Connections opened ahead of logins (upstream-spares.ts); absent: connect at each login. */
  spares?: { take(timeoutMs: number): Promise<net.Socket> };
}

function tlsOptions(t: UpstreamTarget): tls.ConnectionOptions {
  const name = t.servername ?? t.host;
  return {
    // SNI must be a host name, never an IP address.
    servername: net.isIP(name) ? undefined : name,
    ca: t.ca,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // Check the configured name, not necessarily the dialled host (an IP works via IP SANs).
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
  };
}

/** Waits for `event` on `sock`, failing on error, close or after `ms`. */
function awaitEvent(sock: net.Socket, event: string, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.off(event, onOk);
      sock.off('error', onErr);
      sock.off('close', onClose);
      if (err) {
        sock.on('error', () => {});
        sock.destroy();
        reject(err);
      } else resolve();
    };
    const onOk = (): void => done();
    const onErr = (err: Error): void =>
      done(new TwostepError(event === 'secureConnect' ? 'TLS_FAILED' : 'BACKEND_UNAVAILABLE', `${what} failed: ${err.message}`, { cause: err }));
    const onClose = (): void => done(new TwostepError('BACKEND_UNAVAILABLE', `${what}: connection closed`));
    const timer = setTimeout(() => done(new TwostepError('BACKEND_UNAVAILABLE', `${what} timed out`)), ms);
    sock.once(event, onOk);
    sock.once('error', onErr);
    sock.once('close', onClose);
  });
}

/**
 * Opens a connection to the backend within `timeoutMs`. For 'tls' the returned socket is a
 * verified TLSSocket; for 'none' and 'starttls' it is plain TCP.
 */
export async function connectUpstream(t: UpstreamTarget, timeoutMs: number): Promise<net.Socket> {
  if (t.tls === 'tls') {
    const sock = tls.connect({ ...tlsOptions(t), port: t.port, host: t.host });
    sock.setNoDelay(true); // IMAP is request/response: no Nagle delay on short commands (nginx: tcp_nodelay on)
    await awaitEvent(sock, 'secureConnect', timeoutMs, `TLS connect to ${t.host}:${t.port}`);
    return sock;
  }
  // Plain TCP (also for STARTTLS, whose TLS layer then reads the socket itself).
  const sock = t.tls === 'none' ? connectReusingReadBuffer({ host: t.host, port: t.port, noDelay: true }) : net.connect({ host: t.host, port: t.port, noDelay: true });
  await awaitEvent(sock, 'connect', timeoutMs, `connect to ${t.host}:${t.port}`);
  return sock;
}

/** Client side of STARTTLS towards the backend, verified against ca/servername. */
export async function startUpstreamTls(socket: net.Socket, t: UpstreamTarget, timeoutMs: number): Promise<tls.TLSSocket> {
  const sock = tls.connect({ ...tlsOptions(t), socket });
  await awaitEvent(sock, 'secureConnect', timeoutMs, `STARTTLS to ${t.host}:${t.port}`);
  return sock;
}
