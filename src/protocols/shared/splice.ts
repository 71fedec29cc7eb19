import type { Duplex } from 'node:stream';

export type SpliceEnd = 'client-closed' | 'backend-closed' | 'client-error' | 'backend-error' | 'idle' | 'destroyed';

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
}

export interface Splice {
  /** Resolves once both sides are closed. */
  done: Promise<SpliceStats>;
  /** Tears both sides down now (shutdown, revocation). */
  destroy(): void;
}

/**
 * Copies bytes both ways with backpressure (stream.pipe pauses the reader while the writer's
 * buffer is full), counts them, ends both sides when either ends, destroys both on an error or
 * idle timeout. Nothing is parsed.
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
    if (!o.backendGone || closed.client) return false;
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
    other.end();
    lingerTimer ??= setTimeout(() => other.destroy(), o.lingerMs);
    lingerTimer.unref();
  };

  client.on('data', (c: Buffer) => {
    up += c.length;
    last = Date.now();
  });
  backend.on('data', (c: Buffer) => {
    down += c.length;
    last = Date.now();
  });
  client.on('error', () => destroyBoth('client-error'));
  backend.on('error', () => {
    if (!backendDown('backend-error')) destroyBoth('backend-error');
  });
  client.on('close', () => onClosed('client'));
  backend.on('close', () => onClosed('backend'));
  client.pipe(backend);
  // With last words the client is ended by us (after them), not by the pipe.
  backend.pipe(client, { end: !o.backendGone });
  armIdle();
  if (client.destroyed) queueMicrotask(() => onClosed('client'));
  if (backend.destroyed) queueMicrotask(() => onClosed('backend'));

  return { done, destroy: () => destroyBoth('destroyed') };
}
