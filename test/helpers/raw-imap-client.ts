import net from 'node:net';
import tls from 'node:tls';

/**
 * A line-level IMAP client for assertions on exact responses (codes, capabilities) that
 * imapflow hides. It speaks plain TCP, STARTTLS and implicit TLS, and can bind a local address
 * (127.0.0.2) so the "real client IP" differs from twostep's own.
 */
export class RawImapClient {
  private socket: net.Socket;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private closed = false;
  private tagCounter = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(opts: { port: number; tls?: boolean; localAddress?: string }): Promise<RawImapClient> {
    const tcp = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    if (!opts.tls) return new RawImapClient(tcp);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    return new RawImapClient(secure);
  }

  /** Wait until a line matching re arrives; returns all text up to and including that line. */
  async until(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (re.test(lines[i] ?? '')) {
          const taken = lines.slice(0, i + 1).join('\r\n');
          this.buffer = lines.slice(i + 1).join('\r\n');
          return taken;
        }
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${re}; got: ${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  greeting(): Promise<string> {
    return this.until(/^\* (OK|PREAUTH|BYE)/);
  }

  /** Send one tagged command; resolve with everything up to its tagged completion. */
  async command(text: string): Promise<string> {
    const tag = `t${++this.tagCounter}`;
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)`));
  }

  write(raw: string): void {
    this.socket.write(raw);
  }

  async starttls(): Promise<string> {
    const answer = await this.command('STARTTLS');
    if (!/ OK/.test(answer)) return answer;
    const plain = this.socket;
    plain.removeAllListeners('data');
    this.socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.attach(this.socket);
    return answer;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
