import type { Readable } from 'node:stream';
import { TwostepError } from '../../core/errors.js';

export type LineReadFailure = 'line-too-long' | 'total-too-large' | 'closed';

/** Why a read could not be satisfied; the session turns each into its own reply (or silence). */
export class LineReadError extends TwostepError {
  readonly reason: LineReadFailure;

  constructor(reason: LineReadFailure, options?: { cause?: unknown }) {
    super(reason === 'closed' ? 'BAD_STATE' : 'LIMIT_REACHED', `read failed: ${reason}`, options);
    this.name = 'LineReadError';
    this.reason = reason;
  }
}

export interface LineReaderOptions {
  /** Longest line, excluding CRLF. */
  maxLineBytes: number;
  /** Total bytes this reader may ever receive (pre-auth cap); Infinity for none. */
  maxTotalBytes?: number;
  /** Bytes already counted against maxTotalBytes (a reader re-created after STARTTLS). */
  initialTotalBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Pull-style reader over a byte stream: CRLF (or bare LF) lines capped at maxLineBytes, raw byte
 * reads for literals, and a running total capped at maxTotalBytes. Data is consumed eagerly;
 * pause() stops the socket (e.g. while a backend login runs) and detach() hands the unread
 * bytes back (for STARTTLS, where they are discarded, or for splicing, where they are forwarded).
 */
export class LineReader {
  readonly #opts: Required<Omit<LineReaderOptions, 'initialTotalBytes'>>;
  #stream: Readable | null;
  #buf: Buffer = Buffer.alloc(0);
  #total: number;
  #ended = false;
  #failure: LineReadError | null = null;
  #wake: (() => void) | null = null;

  constructor(stream: Readable, opts: LineReaderOptions) {
    this.#opts = { maxLineBytes: opts.maxLineBytes, maxTotalBytes: opts.maxTotalBytes ?? Infinity };
    this.#total = opts.initialTotalBytes ?? 0;
    this.#stream = stream;
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.on('error', this.#onError);
  }

  /** Every byte received so far, including those counted before a STARTTLS re-creation. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Bytes received but not yet read. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Next line without its CRLF (a bare LF is accepted, as Dovecot does). */
  async readLine(): Promise<Buffer> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const lf = this.#buf.indexOf(LF);
      if (lf >= 0) {
        const end = lf > 0 && this.#buf[lf - 1] === CR ? lf - 1 : lf;
        if (end > this.#opts.maxLineBytes) return this.#fail(new LineReadError('line-too-long'));
        const line = Buffer.from(this.#buf.subarray(0, end));
        this.#consume(lf + 1);
        return line;
      }
      if (this.#buf.length > this.#opts.maxLineBytes + 1) return this.#fail(new LineReadError('line-too-long'));
      if (this.#ended) throw new LineReadError('closed');
      await this.#wait();
    }
  }

  /** Exactly n raw bytes (a literal). The caller has already checked n against its cap. */
  async readBytes(n: number): Promise<Buffer> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      if (this.#buf.length >= n) {
        const out = Buffer.from(this.#buf.subarray(0, n));
        this.#consume(n);
        return out;
      }
      if (this.#ended) throw new LineReadError('closed');
      await this.#wait();
    }
  }

  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  /**
   * Stops reading and returns the bytes received but not read. The stream is left paused with
   * no listeners of ours; further reads fail with 'closed'.
   */
  detach(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    const stream = this.#stream;
    if (stream) {
      stream.off('data', this.#onData);
      stream.off('end', this.#onEnd);
      stream.off('close', this.#onEnd);
      stream.off('error', this.#onError);
      stream.pause();
    }
    this.#stream = null;
    this.#ended = true;
    this.#wakeUp();
    return rest;
  }

  #fail(err: LineReadError): never {
    this.#failure = err;
    this.#buf = Buffer.alloc(0);
    throw err;
  }

  #consume(n: number): void {
    this.#buf = n >= this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(n);
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  readonly #onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#total += bytes.length;
    if (this.#total > this.#opts.maxTotalBytes) {
      // Fail closed: drop what we hold and stop reading; the next read reports it.
      this.#failure ??= new LineReadError('total-too-large');
      this.#buf = Buffer.alloc(0);
      this.#stream?.pause();
    } else if (!this.#failure) {
      this.#buf = this.#buf.length === 0 ? bytes : Buffer.concat([this.#buf, bytes]);
    }
    this.#wakeUp();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#wakeUp();
  };

  readonly #onError = (): void => {
    this.#ended = true;
    this.#wakeUp();
  };
}
