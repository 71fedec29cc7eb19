import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { limits } from '../../core/limits.js';
import { takeOverReads } from './reused-read-buffer.js';

const isSocket = (d: Duplex): d is Socket => d instanceof Socket;
const LF = 0x0a;
/** The end of an IMAP line announcing a literal: its bytes follow, the response is not over. */
const LITERAL_AT_END = /\{\d+\+?\}\r?\n$/;

export type SpliceEnd = 'client-closed' | 'backend-closed' | 'client-error' | 'backend-error' | 'idle' | 'destroyed' | 'shutdown' | 'hang-up';

export interface SpliceStats {
  /** Bytes client → backend. */
  upBytes: number;
  /** Bytes backend → client. */
  downBytes: number;
  /** What ended the session first. */
  end: SpliceEnd;
}

export interface SpliceOptions {
  /** No byte in either direction for this long ends both sides. */
  idleMs: number;
  /** After one side closed, how long the other may take to flush and close before it is destroyed. */
  lingerMs: number;
  /**
   * Called once when the backend closes or fails while the client is still connected; the bytes
   * it returns are the client's last words from us before its side is ended (SMTP: a 421 reply,
   * so a client mid-DATA hears a temporary failure rather than a bare close). Without it, or
   * when it returns undefined, the client side just ends (or is destroyed on an error).
   */
  backendGone?: () => Buffer | undefined;
  /**
   * Whether the client may hear words from us now, between two backend replies (SMTP's relay
   * knows: every command answered, no message data under way). Without it: the backend's last
   * bytes ended a line, not an IMAP literal's announcement, and came limits.goodbyeQuietMs ago.
   */
  replyBoundary?: () => boolean;
  /**
   * Reads the client's bytes instead of piping them to the backend (SMTP after AUTH: its command
   * relay writes to both sides itself, with flow control). Likewise `down` for the backend's.
   */
  up?: (chunk: Buffer) => void;
  down?: (chunk: Buffer) => void;
}

export interface Splice {
  /** Resolves once both sides are closed. */
  done: Promise<SpliceStats>;
  /** Tears both sides down now (close, revocation). */
  destroy(): void;
  /**
   * Server shutdown (or a protocol's hang-up): `words` to the client when at a reply boundary,
   * then both sides end.
   */
  goodbye(words: Buffer, why?: SpliceEnd): void;
  /**
   * Server shutdown: the goodbye at the first reply boundary within `waitMs` (a keepalive that
   * came a moment ago is followed by quiet), else at `waitMs` as goodbye() would.
   */
  goodbyeWhenQuiet(words: Buffer, waitMs: number): void;
}

/**
 * Client → backend: what `client.pipe(backend)` does, in one 'data' listener that also counts
 * (pipe adds eight listeners and a second 'data' one per session): write each chunk, pause the
 * client while the backend's buffer is full, end the backend when the client ends. Chunks that
 * come after the backend is gone are dropped (the close handlers end the session).
 */
function pipeUp(client: Duplex, backend: Duplex, note: (c: Buffer) => void): void {
  let waiting = false;
  const drained = (): void => {
    waiting = false;
    client.resume();
  };
  client.on('data', (c: Buffer) => {
    note(c);
    if (backend.destroyed || backend.writableEnded) return;
    if (!backend.write(c) && !waiting) {
      waiting = true;
      client.pause();
      backend.once('drain', drained);
    }
  });
  client.on('end', () => {
    if (!backend.writableEnded && !backend.destroyed) backend.end();
  });
  client.resume();
}

/**
 * Copies bytes both ways with backpressure, counts them, ends both sides when either ends,
 * destroys both on an error or idle timeout. Nothing is parsed.
 * Backend → client (the bulk: FETCH) goes without a copy when the backend socket reads into a
 * reused buffer (connectReusingReadBuffer): each read is written to the client at once, and
 * reading stops while the client has not taken it all (the buffer is still held) until 'drain'.
 * Otherwise, and client → backend, stream.pipe (which pauses the reader while the writer's
 * buffer is full).
 */
export function splice(client: Duplex, backend: Duplex, o: SpliceOptions): Splice {
  let up = 0;
  let down = 0;
  let end: SpliceEnd | null = null;
  let last = Date.now();
  let idleTimer: NodeJS.Timeout | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (s: SpliceStats) => void;
  const done = new Promise<SpliceStats>((r) => (resolveDone = r));
  const closed = { client: false, backend: false };
  /** Backend → client: when the last bytes came, and whether they ended a line (no literal next). */
  const downTail = { at: 0, lineEnd: true };
  const noteDown = (view: Buffer): void => {
    down += view.length;
    last = downTail.at = Date.now();
    downTail.lineEnd = view[view.length - 1] === LF && !LITERAL_AT_END.test(view.toString('latin1', Math.max(0, view.length - 24)));
  };
  const noteUp = (c: Buffer): void => {
    up += c.length;
    last = Date.now();
  };
  let saidGoodbye = false;

  const firstEnd = (why: SpliceEnd): void => {
    end ??= why;
  };
  const destroyBoth = (why: SpliceEnd): void => {
    firstEnd(why);
    client.destroy();
    backend.destroy();
  };
  const armIdle = (): void => {
    const left = o.idleMs - (Date.now() - last);
    if (left <= 0) return destroyBoth('idle');
    idleTimer = setTimeout(armIdle, left);
    idleTimer.unref();
  };
  let lastWords: Buffer | undefined;
  let lastWordsAsked = false;
  /** The backend is gone first: tell the client (when o.backendGone has words) and end it. */
  const backendDown = (why: SpliceEnd): boolean => {
    if (!o.backendGone || closed.client || saidGoodbye) return false;
    if (!lastWordsAsked) {
      lastWordsAsked = true;
      lastWords = o.backendGone();
    }
    if (!lastWords) return false;
    firstEnd(why);
    backend.destroy();
    if (!client.writableEnded && !client.destroyed) client.end(lastWords);
    lingerTimer ??= setTimeout(() => client.destroy(), o.lingerMs);
    lingerTimer.unref();
    return true;
  };
  const onClosed = (side: 'client' | 'backend'): void => {
    if (closed[side]) return;
    closed[side] = true;
    firstEnd(side === 'client' ? 'client-closed' : 'backend-closed');
    if (closed.client && closed.backend) {
      clearTimeout(idleTimer);
      clearTimeout(lingerTimer);
      resolveDone({ upBytes: up, downBytes: down, end: end ?? 'destroyed' });
      return;
    }
    if (side === 'backend' && backendDown('backend-closed')) return;
    const other = side === 'client' ? backend : client;
    // end() on a socket already ended or destroyed builds an error (with a stack) for nothing.
    if (!other.writableEnded && !other.destroyed) other.end();
    lingerTimer ??= setTimeout(() => other.destroy(), o.lingerMs);
    lingerTimer.unref();
  };

  // Set while the client has not taken a chunk yet: the reused buffer it came from is held.
  let held = false;
  const written = (): void => {
    if (!held) return;
    held = false;
    backend.resume();
  };
  // Not with backendGone: its watcher reads the backend's 'data' events, which the direct path
  // does not emit (SMTP, where backend → client carries only replies).
  const direct =
    !o.backendGone &&
    !o.down &&
    isSocket(backend) &&
    takeOverReads(backend, (view) => {
      noteDown(view);
      if (client.destroyed) return true; // dropped; the close handlers end the session
      client.write(view, written);
      if (client.writableLength === 0) return true;
      held = true;
      return false;
    });
  if (!direct) {
    backend.on('data', (c: Buffer) => noteDown(c));
  }
  client.on('error', () => destroyBoth('client-error'));
  backend.on('error', () => {
    if (!backendDown('backend-error')) destroyBoth('backend-error');
  });
  client.on('close', () => onClosed('client'));
  backend.on('close', () => onClosed('backend'));
  if (o.up) {
    const relayUp = o.up;
    client.on('data', (c: Buffer) => {
      noteUp(c);
      relayUp(c);
    });
    client.resume(); // (a 'data' listener alone does not resume a paused stream)
  } else {
    pipeUp(client, backend, noteUp);
  }
  if (direct) {
    // Bytes read before the splice and not consumed yet go first.
    for (let c = backend.read() as Buffer | null; c !== null; c = backend.read() as Buffer | null) {
      noteDown(c);
      client.write(c);
    }
    // The end of the backend's stream ends the client's side, as pipe would.
    backend.on('end', () => client.end()); // ('end' comes once: no once() wrapper kept per session)
    backend.resume();
  } else if (o.down) {
    backend.on('data', o.down).resume();
  } else {
    // With last words the client is ended by us (after them), not by the pipe.
    backend.pipe(client, { end: !o.backendGone });
  }
  armIdle();
  if (client.destroyed) queueMicrotask(() => onClosed('client'));
  if (backend.destroyed) queueMicrotask(() => onClosed('backend'));

  const atBoundary = (): boolean =>
    o.replyBoundary ? o.replyBoundary() : downTail.lineEnd && Date.now() - downTail.at >= limits.goodbyeQuietMs;
  const goodbye = (words: Buffer, why: SpliceEnd = 'shutdown'): void => {
    if (saidGoodbye) return;
    saidGoodbye = true;
    firstEnd(why);
    const speak = atBoundary();
    backend.destroy();
    if (client.writableEnded || client.destroyed) return;
    if (speak) {
      down += words.length;
      client.end(words);
    } else {
      client.end();
    }
    lingerTimer ??= setTimeout(() => client.destroy(), o.lingerMs);
    lingerTimer.unref();
  };

  const goodbyeWhenQuiet = (words: Buffer, waitMs: number): void => {
    const until = Date.now() + waitMs;
    const attempt = (): void => {
      if (saidGoodbye) return;
      if (atBoundary() || Date.now() >= until || client.destroyed || backend.destroyed) return goodbye(words);
      setTimeout(attempt, limits.goodbyeRecheckMs).unref();
    };
    attempt();
  };

  return { done, destroy: () => destroyBoth('destroyed'), goodbye, goodbyeWhenQuiet };
}
