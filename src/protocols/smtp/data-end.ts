const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

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
    let i = 0;
    const n = chunk.length;
    for (;;) {
      switch (this.#at) {
        case At.MidLine: {
          const lf = chunk.indexOf(LF, i);
          if (lf < 0) return -1;
          i = lf + 1;
          this.#at = At.LineStart;
          break;
        }
        case At.LineStart:
          if (i >= n) return -1;
          this.#at = chunk[i] === DOT ? At.Dot : At.MidLine;
          if (this.#at === At.Dot) i++;
          break;
        case At.Dot:
        case At.DotCr: {
          if (i >= n) return -1;
          const b = chunk[i];
          if (b === LF) return i + 1;
          if (b === CR && this.#at === At.Dot) {
            this.#at = At.DotCr;
            i++;
          } else {
            this.#at = At.MidLine;
          }
          break;
        }
      }
    }
  }
}
