import net from 'node:net';
import tls from 'node:tls';

/**
 * The text a test client has received on a socket, with a wait for "enough of it": the common
 * part of the raw IMAP and SMTP test clients. The socket can be swapped (STARTTLS).
 */
export class SocketText {
  socket: net.Socket;
  buffer = '';
  closed = false;
  private waiters: Array<() => void> = [];
  private readonly encoding: BufferEncoding;

  constructor(socket: net.Socket, encoding: BufferEncoding) {
    this.socket = socket;
    this.encoding = encoding;
    this.attach(socket);
  }

  /** Reads from `socket` from now on (the TLS socket after STARTTLS). */
  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setEncoding(this.encoding);
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

  /** Waits until the first line matching `re` arrived; returns the text up to and including it. */
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
      if (this.closed) throw new Error(`connection closed while waiting for ${re}; got: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Upgrades the current socket to TLS (self-signed test certificates accepted) and reads from it. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.attach(secure);
  }

  /** Resolves once the socket closed (its close or error event); throws after timeoutMs. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** A TCP (or implicit TLS) connection to 127.0.0.1:port, optionally from a given local address. */
export async function connectTestSocket(opts: { port: number; tls?: boolean; localAddress?: string }): Promise<net.Socket> {
  const tcp = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.localAddress }, () => resolve(s));
    s.once('error', reject);
  });
  if (!opts.tls) return tcp;
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}
