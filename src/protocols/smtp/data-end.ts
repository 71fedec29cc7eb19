const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
/** A line that starts with a dot: the only place an end line can be (searched in native code). */
const LF_DOT = Buffer.from('\n.');

/** Where the scan stands at the end of the last chunk. */
const enum At {
  MidLine,
  LineStart,
  Dot,
  DotCr,
}

/**
 * Finds the end of a DATA payload: a line that is only ".". Lines end at LF, with or without
 * CR before it, because that is where Postfix 3.7 ends them (a bare LF included, unless
 * smtpd_forbid_bare_newline): "\n.\n", "\n.\r\n", "\r\n.\n" and "\r\n.\r\n" all end the data
 * here. Ending no later than Postfix does is what matters: bytes twostep still passed as message
 * data must never be commands to Postfix. (Where Postfix ends later, the relay reads nothing
 * more until Postfix answered, so the two cannot drift apart.) The payload starts at a line
 * start, right after the DATA command's line. Fed chunk by chunk; state carries across chunks.
 */
export class DataEnd {
  #at = At.LineStart;

  /** The offset just past the end line in `chunk`, or -1 when the data goes on past it. */
  find(chunk: Buffer): number {
    const n = chunk.length;
    let i = 0;
    // A line start, "." or ".\r" left by the last chunk.
    if (this.#at === At.LineStart && n > 0) {
      if (chunk[0] !== DOT) this.#at = At.MidLine;
      else [this.#at, i] = [At.Dot, 1];
    }
    if (this.#at === At.Dot || this.#at === At.DotCr) {
      const end = this.#afterDot(chunk, i);
      if (end !== 0) return end;
    }
    if (n === 0) return -1;
    for (;;) {
      const j = chunk.indexOf(LF_DOT, i);
      if (j < 0) {
        this.#at = chunk[n - 1] === LF ? At.LineStart : At.MidLine;
        return -1;
      }
      this.#at = At.Dot;
      const end = this.#afterDot(chunk, j + 2);
      if (end !== 0) return end;
      i = j + 2;
    }
  }

  /**
   * After a "." at a line start (from `i` on, "\r" maybe already seen): the offset past the end
   * line, -1 when the chunk ended first (state kept), 0 when the line goes on (mid-line).
   */
  #afterDot(chunk: Buffer, i: number): number {
    if (this.#at === At.Dot && i < chunk.length && chunk[i] === CR) {
      this.#at = At.DotCr;
      i++;
    }
    if (i >= chunk.length) return -1;
    if (chunk[i] === LF) return i + 1;
    this.#at = At.MidLine;
    return 0;
  }
}
