// A minimal IMAP client on raw sockets for the benchmark: greeting, tagged commands, literals
// counted (not kept). The same code talks to every target, so client overhead is equal for all.
//
//   const c = await ImapConn.open({ port, tls: false });
//   await c.command('LOGIN "u" "p"');        // -> { status: 'OK', line, literalBytes }
//   await c.command('LOGOUT'); c.close();
import net from 'node:net';
import tls from 'node:tls';

const MAX_LINE_BYTES = 1024 * 1024; // a response line without its literals; servers are ours
const DEFAULT_TIMEOUT_MS = 30_000;

export class ImapError extends Error {}

export class ImapConn {
  /** @type {net.Socket} */
  #sock;
  #partial = [];
  #partialBytes = 0;
  #cur = ''; // text of the current line before a literal
  #lit = 0; // literal bytes still to skip
  #litBytes = 0; // literal bytes seen since the last command started
  #tagN = 0;
  /** @type {{ tag: string, resolve: Function, reject: Function, timer: NodeJS.Timeout } | null} */
  #pending = null;
  #closed = false;
  #closeError = null;
  greeting = '';
  /** TLS only: the server resumed the session we offered (abbreviated handshake). */
  resumed = false;
  /** TLS only: the latest session (ticket) the server gave us, to offer on the next connection. */
  tlsSession = null;

  /**
   * Connect and wait for the greeting ("* OK ..."); rejects on anything else. TLS: `session`
   * offers a session from an earlier connection's tlsSession (resumption); tlsOptions are more
   * tls.connect options (e.g. maxVersion: 'TLSv1.2').
   * @param {{ port: number, host?: string, tls?: boolean, timeoutMs?: number, session?: Buffer | null,
   *   tlsOptions?: import('node:tls').ConnectionOptions }} o
   * @returns {Promise<ImapConn>}
   */
  static open(o) {
    const c = new ImapConn();
    return c.#open(o).then(() => c);
  }

  #open({ port, host = '127.0.0.1', tls: useTls = false, timeoutMs = DEFAULT_TIMEOUT_MS, session = null, tlsOptions = {} }) {
    return new Promise((resolve, reject) => {
      const sock = useTls
        ? tls.connect({ port, host, rejectUnauthorized: false, servername: 'localhost', ...tlsOptions, ...(session ? { session } : {}) })
        : net.connect({ port, host });
      if (useTls) {
        sock.once('secureConnect', () => (this.resumed = /** @type {tls.TLSSocket} */ (sock).isSessionReused()));
        sock.on('session', (s) => (this.tlsSession = s));
      }
      sock.setNoDelay(true);
      this.#sock = sock;
      this.#pending = {
        tag: '*greeting*',
        resolve: (r) => {
          this.greeting = r.line;
          if (!/^\* (OK|PREAUTH)/i.test(r.line)) reject(new ImapError(`bad greeting: ${r.line}`));
          else resolve();
        },
        reject,
        timer: setTimeout(() => this.#fail(new ImapError(`no greeting within ${timeoutMs} ms`)), timeoutMs),
      };
      sock.on('data', (chunk) => this.#onData(chunk));
      sock.on('error', (err) => this.#fail(err));
      sock.on('close', () => {
        this.#closed = true;
        this.#fail(this.#closeError ?? new ImapError('connection closed by server'));
      });
    });
  }

  get closed() {
    return this.#closed;
  }

  /**
   * Send one tagged command and wait for its tagged answer (untagged lines are skipped;
   * literal bytes are counted in literalBytes).
   * @param {string} text
   * @param {number} [timeoutMs]
   * @returns {Promise<{ status: string, line: string, literalBytes: number }>}
   */
  command(text, timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.#pending) return Promise.reject(new ImapError('a command is already running'));
    if (this.#closed) return Promise.reject(new ImapError('connection is closed'));
    const tag = `b${++this.#tagN}`;
    this.#litBytes = 0;
    return new Promise((resolve, reject) => {
      this.#pending = {
        tag,
        resolve,
        reject,
        timer: setTimeout(() => this.#fail(new ImapError(`no answer to ${text.split(' ')[0]} within ${timeoutMs} ms`)), timeoutMs),
      };
      this.#sock.write(`${tag} ${text}\r\n`);
    });
  }

  /** Send `IDLE` and resolve at the server's continuation ("+ idling"); the command stays open. */
  idle(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.#pending) return Promise.reject(new ImapError('a command is already running'));
    const tag = `b${++this.#tagN}`;
    return new Promise((resolve, reject) => {
      this.#pending = {
        tag,
        continuation: true,
        resolve,
        reject,
        timer: setTimeout(() => this.#fail(new ImapError(`no continuation to IDLE within ${timeoutMs} ms`)), timeoutMs),
      };
      this.#sock.write(`${tag} IDLE\r\n`);
    });
  }

  close() {
    this.#closed = true;
    this.#sock?.destroy();
  }

  #fail(err) {
    const p = this.#pending;
    if (!p) return;
    this.#pending = null;
    clearTimeout(p.timer);
    this.#sock.destroy();
    p.reject(err);
  }

  #onData(chunk) {
    let off = 0;
    while (off < chunk.length) {
      if (this.#lit > 0) {
        const n = Math.min(this.#lit, chunk.length - off);
        this.#lit -= n;
        this.#litBytes += n;
        off += n;
        continue;
      }
      const nl = chunk.indexOf(10, off);
      if (nl < 0) {
        this.#partial.push(chunk.subarray(off));
        this.#partialBytes += chunk.length - off;
        if (this.#partialBytes > MAX_LINE_BYTES) this.#fail(new ImapError('response line too long'));
        return;
      }
      let lineBuf = chunk.subarray(off, nl + 1);
      if (this.#partial.length) {
        lineBuf = Buffer.concat([...this.#partial, lineBuf]);
        this.#partial = [];
        this.#partialBytes = 0;
      }
      off = nl + 1;
      const line = lineBuf.toString('latin1').replace(/\r?\n$/, '');
      const m = /\{(\d+)\+?\}$/.exec(line);
      if (m) {
        this.#cur += line;
        this.#lit = Number(m[1]);
        continue;
      }
      const full = this.#cur + line;
      this.#cur = '';
      this.#onLine(full);
    }
  }

  #onLine(line) {
    const p = this.#pending;
    if (!p) return; // unsolicited (e.g. BYE after LOGOUT answered)
    if (p.tag === '*greeting*') {
      this.#pending = null;
      clearTimeout(p.timer);
      p.resolve({ status: line.split(' ')[1] ?? '', line, literalBytes: 0 });
      return;
    }
    if (p.continuation && line.startsWith('+')) {
      this.#pending = null;
      clearTimeout(p.timer);
      p.resolve({ status: '+', line, literalBytes: 0 });
      return;
    }
    if (line.startsWith(`${p.tag} `)) {
      this.#pending = null;
      clearTimeout(p.timer);
      const status = (line.slice(p.tag.length + 1).split(' ')[0] ?? '').toUpperCase();
      p.resolve({ status, line, literalBytes: this.#litBytes });
      return;
    }
    if (/^\* BYE/i.test(line)) this.#closeError = new ImapError(`server said: ${line}`);
  }
}

/** IMAP quoted string. */
export function quote(s) {
  return `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * One complete login round: connect, greeting, LOGIN, LOGOUT. Resolves with the elapsed ms;
 * rejects when the login is refused or anything fails.
 * tls: a client's session cache, { session, resumed: 0, full: 0 }: the round offers `session`
 * (when set), counts whether the server resumed it, and keeps the newest ticket for the next round.
 * @param {{ port: number, tls?: boolean, tlsOptions?: import('node:tls').ConnectionOptions }} target
 * @param {string} user
 * @param {string} password
 * @param {{ session: Buffer | null, resumed: number, full: number }} [tlsCache]
 */
export async function loginRound(target, user, password, tlsCache) {
  const t0 = process.hrtime.bigint();
  const c = await ImapConn.open(tlsCache ? { ...target, session: tlsCache.session } : target);
  try {
    const r = await c.command(`LOGIN ${quote(user)} ${quote(password)}`);
    if (r.status !== 'OK') throw new ImapError(`LOGIN refused: ${r.line}`);
    const out = await c.command('LOGOUT');
    if (out.status !== 'OK') throw new ImapError(`LOGOUT: ${out.line}`);
    if (tlsCache) {
      if (c.resumed) tlsCache.resumed++;
      else tlsCache.full++;
      tlsCache.session = c.tlsSession ?? tlsCache.session;
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    c.close();
  }
}
