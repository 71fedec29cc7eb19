import type { Socket } from 'node:net';
import tls from 'node:tls';
import { TwostepError } from '../../core/errors.js';

/**
 * Server side of a TLS start over an accepted TCP socket: implicit TLS right after accept, or
 * STARTTLS after the "begin TLS" reply. The caller MUST have stopped reading the plaintext
 * socket and thrown away every byte it still held (LineReader.detach()): bytes a client pipelined
 * after STARTTLS are plaintext injection (CVE-2011-0411) and must never be read as commands.
 *
 * The TLS socket is made once the client's first bytes (its ClientHello) wait in the TCP socket,
 * not before: Node hands those bytes to the TLS layer, whose input buffer then starts at their
 * size (1 KiB for a usual ClientHello; it grows by 16 KiB when a read fills it), where a TLS
 * socket made on an empty TCP socket sizes it by libuv's read hint, 64 KiB, and keeps that for
 * the whole session: most of what an idle TLS session cost (docs/memory.md).
 */
export function upgradeServerTls(
  socket: Socket,
  secureContext: tls.SecureContext,
  handshakeMs: number,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let tlsSocket: tls.TLSSocket | undefined;
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      stopWaiting();
      tlsSocket?.off('secure', onSecure);
      tlsSocket?.off('error', onError);
      tlsSocket?.off('close', onClose);
      if (err) {
        tlsSocket?.on('error', () => {});
        tlsSocket?.destroy();
        socket.destroy();
        reject(err);
      } else {
        resolve(tlsSocket as tls.TLSSocket);
      }
    };
    const onSecure = (): void => finish();
    const onError = (err: Error): void => finish(new TwostepError('TLS_FAILED', 'TLS handshake failed', { cause: err }));
    const onClose = (): void => finish(new TwostepError('TLS_FAILED', 'connection closed during TLS handshake'));
    const wrap = (): void => {
      stopWaiting();
      tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
      tlsSocket.once('secure', onSecure);
      tlsSocket.once('error', onError);
      tlsSocket.once('close', onClose);
    };
    // 'readable' with nothing to read is the end of the stream: the client left before a byte.
    const onReadable = (): void => (socket.readableLength > 0 ? wrap() : onClose());
    const stopWaiting = (): void => {
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const timer = setTimeout(() => finish(new TwostepError('TLS_FAILED', 'TLS handshake timed out')), handshakeMs);
    if (socket.readableLength > 0 || socket.destroyed) {
      wrap();
    } else {
      socket.on('readable', onReadable);
      socket.once('error', onError);
      socket.once('close', onClose);
    }
  });
}
