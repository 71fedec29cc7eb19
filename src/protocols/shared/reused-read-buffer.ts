import net from 'node:net';
import { limits } from '../../core/limits.js';

/**
 * Receives the bytes of one read, without a copy. Returns true when it no longer needs `view`
 * (written through at once); false when a pending write still holds it: reading then stops
 * until the sink calls socket.resume(), and that buffer is never read into again.
 */
export type ReadSink = (view: Buffer) => boolean;

const HOLDER = Symbol('twostep.readSink');

/**
 * The read buffer of every backend connection whose reads are small. One for the process: reads
 * run one at a time on the event loop, and each is consumed (copied) in its callback.
 */
let sharedSmall: Buffer | null = null;
const sharedSmallBuffer = (): Buffer => (sharedSmall ??= Buffer.allocUnsafeSlow(limits.spliceReadSmallBytes));

interface Holder {
  sink: ReadSink | null;
}

type WithHolder = net.Socket & { [HOLDER]?: Holder };

/**
 * A plain TCP connection whose reads land in a buffer it reuses, instead of a fresh buffer per
 * read (Node's default): the backend → client direction of a session carries the bulk (FETCH of
 * large mail), and allocating, shrinking and collecting a 64 KiB buffer per read is much of a
 * proxy's cost. The buffer adapts: its own limits.spliceReadBytes once a read fills it; while
 * reads are small (commands, IDLE updates) every such connection reads into one shared
 * limits.spliceReadSmallBytes buffer, so an idle session holds no read buffer at all (each read
 * is consumed before the next one anywhere: the sink gets a copy of a small read, never the
 * shared buffer itself).
 *
 * Until takeOverReads() installs a sink, a copy of every read is pushed into the socket's
 * stream (listeners such as LineReader keep chunks), so the socket behaves like any other:
 * 'data' while flowing, buffered while paused, pause()/resume() as usual.
 */
export function connectReusingReadBuffer(opts: net.TcpNetConnectOpts): net.Socket {
  const holder: Holder = { sink: null };
  let current: Buffer | null = null;
  let want = limits.spliceReadSmallBytes;
  let smallReads = 0;
  const socket: WithHolder = net.connect({
    ...opts,
    onread: {
      // Called before each read (after the previous read's callback): the buffer to read into.
      buffer: (): Buffer => {
        if (want === limits.spliceReadSmallBytes) {
          current = null; // a bulk buffer is dropped when the transfer is over
          return sharedSmallBuffer();
        }
        // Own memory (not a slice of Node's shared 8 KiB pool, which one long-lived slice would pin).
        if (!current || current.length !== want) current = Buffer.allocUnsafeSlow(want);
        return current;
      },
      callback: (n: number, buf: Uint8Array): boolean => {
        const shared = buf.buffer === sharedSmall?.buffer;
        // Grow at once when a read fills the buffer; shrink only after two small reads in a row,
        // so a short read in the middle of a transfer does not drop it to small reads.
        smallReads = n < limits.spliceReadSmallBytes ? smallReads + 1 : 0;
        if (n === buf.length) want = limits.spliceReadBytes;
        else if (smallReads >= 2) want = limits.spliceReadSmallBytes;
        const view = Buffer.from(buf.buffer, buf.byteOffset, n);
        if (!holder.sink) {
          socket.push(Buffer.from(view));
          return true;
        }
        // The shared buffer is every idle connection's next read: the sink may keep only a copy.
        if (holder.sink(shared ? Buffer.from(view) : view)) return true;
        if (!shared) current = null; // still referenced by a pending write: the next read gets a new buffer
        return false;
      },
    },
  });
  socket[HOLDER] = holder;
  return socket;
}

/**
 * From now on, hand every read of `socket` to `sink` (no copy, no 'data' event); bytes already
 * buffered in the stream stay there for socket.read(). False when the socket was not made by
 * connectReusingReadBuffer (the caller then reads it the usual way).
 */
export function takeOverReads(socket: net.Socket, sink: ReadSink): boolean {
  const holder = (socket as WithHolder)[HOLDER];
  if (!holder) return false;
  holder.sink = sink;
  return true;
}
