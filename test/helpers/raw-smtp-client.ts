import net from 'node:net';
import tls from 'node:tls';

/**
 * A line-level SMTP client for assertions on exact replies (codes, EHLO keywords) that
 * nodemailer and swaks hide. Plain TCP, STARTTLS and implicit TLS; can bind a local address
 * (127.0.0.2) so the real client address differs from twostep's own. Bytes are latin1 in and
 * out, so 8-bit and UTF-8 test messages pass unchanged.
 */
export class RawSmtpClient {
  private socket: net.Socket;
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
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

  static async connect(opts: { port: number; tls?: boolean; localAddress?: string }): Promise<RawSmtpClient> {
    const tcp = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    if (!opts.tls) return new RawSmtpClient(tcp);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    return new RawSmtpClient(secure);
  }

  /** The next complete reply (all its lines, CRLF-joined). */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3}( |$)/.test(lines[i] ?? '')) {
          const taken = lines.slice(0, i + 1).join('\r\n');
          this.buffer = lines.slice(i + 1).join('\r\n');
          return taken;
        }
      }
      if (this.closed) throw new Error(`connection closed while waiting for a reply; got: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for a reply; got: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends one command line and returns its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  write(raw: string): void {
    this.socket.write(Buffer.from(raw, 'latin1'));
  }

  async starttls(): Promise<string> {
    const answer = await this.command('STARTTLS');
    if (!answer.startsWith('220')) return answer;
    const plain = this.socket;
    plain.removeAllListeners('data');
    this.socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.attach(this.socket);
    return answer;
  }

  /** Whatever arrived and was not read as a reply yet. */
  pending(): string {
    return this.buffer;
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

/** base64 of SASL PLAIN (authzid NUL authcid NUL password). */
export function saslPlain(user: string, password: string, authzid = ''): string {
  return Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
}
