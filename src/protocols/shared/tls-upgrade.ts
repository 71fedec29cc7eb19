import type { Socket } from 'node:net';
import tls from 'node:tls';
import { TwostepError } from '../../core/errors.js';

/**
 * Server side of a TLS start over an accepted TCP socket: implicit TLS right after accept, or
 * STARTTLS after the "begin TLS" reply. The caller MUST have stopped reading the plaintext
 * socket and thrown away every byte it still held (LineReader.detach()): bytes a client pipelined
 * after STARTTLS are plaintext injection (CVE-2011-0411) and must never be read as commands.
 */
export function upgradeServerTls(
  socket: Socket,
  secureContext: tls.SecureContext,
  handshakeMs: number,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      tlsSocket.off('secure', onSecure);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      if (err) {
        tlsSocket.on('error', () => {});
        tlsSocket.destroy();
        socket.destroy();
        reject(err);
      } else {
        resolve(tlsSocket);
      }
    };
    const onSecure = (): void => finish();
    const onError = (err: Error): void => finish(new TwostepError('TLS_FAILED', 'TLS handshake failed', { cause: err }));
    const onClose = (): void => finish(new TwostepError('TLS_FAILED', 'connection closed during TLS handshake'));
    const timer = setTimeout(() => finish(new TwostepError('TLS_FAILED', 'TLS handshake timed out')), handshakeMs);
    tlsSocket.once('secure', onSecure);
    tlsSocket.once('error', onError);
    tlsSocket.once('close', onClose);
  });
}
