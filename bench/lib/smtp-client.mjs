// A minimal SMTP submission client on plain TCP for the benchmark: greeting, EHLO, AUTH PLAIN,
// MAIL/RCPT/DATA (in one write when the server offers PIPELINING), QUIT. The same code talks to
// every side, so client overhead is equal for all.
//
//   const c = await SmtpConn.open({ port });
//   await c.ehlo('bench.client'); await c.authPlain('u', 'p');
//   await c.send({ from, to, data: dotStuffed(text) });   // -> the final reply after DATA (250)
//   await c.quit();
import net from 'node:net';

const MAX_REPLY_BYTES = 64 * 1024; // one reply's text; servers are ours
const DEFAULT_TIMEOUT_MS = 30_000;

export class SmtpError extends Error {}

/** The message as DATA sends it: lines starting with "." doubled, CRLF line ends, then CRLF.CRLF. */
export function dotStuffed(text) {
  const body = text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return Buffer.from(`${body.endsWith('\r\n') ? body : `${body}\r\n`}.\r\n`, 'latin1');
}

export class SmtpConn {
  /** @type {net.Socket} */
  #sock;
  #buf = '';
  /** @type {string[]} lines of the reply being read */
  #lines = [];
  /** @type {{ code: number, text: string }[]} replies nobody waits for yet */
  #ready = [];
  /** @type {{ resolve: Function, reject: Function, timer: NodeJS.Timeout }[]} */
  #waiters = [];
  #closed = false;
  #closeError = null;
  /** EHLO keywords (upper case) of the last EHLO. */
  extensions = new Set();
  greeting = '';

  /**
   * Connect and wait for the 220 greeting; rejects on anything else.
   * @param {{ port: number, host?: string, timeoutMs?: number }} o
   * @returns {Promise<SmtpConn>}
   */
  static async open({ port, host = '127.0.0.1', timeoutMs = DEFAULT_TIMEOUT_MS }) {
    const c = new SmtpConn();
    const sock = net.connect({ port, host });
    sock.setNoDelay(true);
    c.#sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d) => c.#onData(d));
    sock.on('error', (err) => c.#fail(err));
    sock.on('close', () => {
      c.#closed = true;
      c.#fail(c.#closeError ?? new SmtpError('connection closed by server'));
    });
    try {
      const g = await c.reply(timeoutMs);
      c.greeting = g.text;
      if (g.code !== 220) throw new SmtpError(`bad greeting: ${g.text}`);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  get closed() {
    return this.#closed;
  }

  #onData(d) {
    this.#buf += d;
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      this.#lines.push(line);
      if (/^\d{3}( |$)/.test(line)) {
        const r = { code: Number(line.slice(0, 3)), text: this.#lines.join('\r\n') };
        this.#lines = [];
        const w = this.#waiters.shift();
        if (w) clearTimeout(w.timer), w.resolve(r);
        else this.#ready.push(r);
      } else if (!/^\d{3}-/.test(line)) {
        return this.#fail(new SmtpError(`not an SMTP reply line: ${line.slice(0, 80)}`));
      }
    }
    if (this.#buf.length + this.#lines.reduce((s, l) => s + l.length, 0) > MAX_REPLY_BYTES) this.#fail(new SmtpError('reply too long'));
  }

  #fail(err) {
    this.#closeError ??= err;
    for (const w of this.#waiters.splice(0)) clearTimeout(w.timer), w.reject(err);
    if (!this.#closed) this.#sock.destroy();
  }

  /** The next whole reply (all its lines). */
  reply(timeoutMs = DEFAULT_TIMEOUT_MS) {
    const r = this.#ready.shift();
    if (r) return Promise.resolve(r);
    if (this.#closed || this.#closeError) return Promise.reject(this.#closeError ?? new SmtpError('connection is closed'));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, timer: setTimeout(() => this.#fail(new SmtpError(`no reply within ${timeoutMs} ms`)), timeoutMs) };
      this.#waiters.push(w);
    });
  }

  write(data) {
    this.#sock.write(data);
  }

  /** One command line, its reply. */
  command(line, timeoutMs) {
    this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /** A reply with the expected code, or an error naming what was sent. */
  static expect(r, code, what) {
    if (r.code !== code) throw new SmtpError(`${what}: ${r.text.slice(0, 200)}`);
    return r;
  }

  async ehlo(name) {
    const r = SmtpConn.expect(await this.command(`EHLO ${name}`), 250, 'EHLO');
    this.extensions = new Set(r.text.split('\r\n').slice(1).map((l) => l.slice(4).split(' ')[0].toUpperCase()));
  }

  async authPlain(user, password) {
    const b64 = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    SmtpConn.expect(await this.command(`AUTH PLAIN ${b64}`), 235, 'AUTH PLAIN');
  }

  /**
   * One message: MAIL, RCPT, DATA (one write with PIPELINING, else one by one), then the data.
   * @param {{ from: string, to: string, data: Buffer }} m data from dotStuffed()
   * @returns {Promise<string>} the final reply (250 ... queued as ...)
   */
  async send({ from, to, data }) {
    const lines = [`MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA'];
    const replies = [];
    if (this.extensions.has('PIPELINING')) {
      this.write(`${lines.join('\r\n')}\r\n`);
      for (let i = 0; i < lines.length; i++) replies.push(await this.reply());
    } else {
      for (const l of lines) {
        const r = await this.command(l);
        replies.push(r);
        if (r.code >= 400) break;
      }
    }
    SmtpConn.expect(replies[0], 250, 'MAIL FROM');
    SmtpConn.expect(replies[1], 250, 'RCPT TO');
    SmtpConn.expect(replies[2], 354, 'DATA');
    this.write(data);
    return SmtpConn.expect(await this.reply(), 250, 'end of DATA').text;
  }

  /** QUIT, wait for 221 (or the close), close. */
  async quit() {
    try {
      await this.command('QUIT', 5000);
    } catch {
      /* closed already */
    } finally {
      this.close();
    }
  }

  close() {
    this.#closed = true;
    this.#sock.destroy();
  }
}
