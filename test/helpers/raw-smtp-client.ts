import { connectTestSocket, SocketText } from './socket-text.js';

/**
 * A line-level SMTP client for assertions on exact replies (codes, EHLO keywords) that
 * nodemailer and swaks hide. Plain TCP, STARTTLS and implicit TLS; can bind a local address
 * (127.0.0.2) so the real client address differs from twostep's own. Text is latin1 in and
 * out, so 8-bit and UTF-8 test messages pass byte for byte.
 */
export class RawSmtpClient {
  private readonly text: SocketText;

  private constructor(text: SocketText) {
    this.text = text;
  }

  static async connect(opts: { port: number; tls?: boolean; localAddress?: string }): Promise<RawSmtpClient> {
    return new RawSmtpClient(new SocketText(await connectTestSocket(opts), 'latin1'));
  }

  get closed(): boolean {
    return this.text.closed;
  }

  /** The next complete reply (all its lines, CRLF-joined). */
  reply(timeoutMs = 10_000): Promise<string> {
    return this.text.until(/^\d{3}( |$)/, timeoutMs);
  }

  /** Sends one command line and returns its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  write(raw: string): void {
    this.text.socket.write(Buffer.from(raw, 'latin1'));
  }

  async starttls(): Promise<string> {
    const answer = await this.command('STARTTLS');
    if (answer.startsWith('220')) await this.text.startTls();
    return answer;
  }

  /** Starts TLS without sending STARTTLS (the test sent it itself, e.g. pipelined with other lines). */
  upgradeTls(): Promise<void> {
    return this.text.startTls();
  }

  /** Whatever arrived and was not read as a reply yet. */
  pending(): string {
    return this.text.buffer;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.text.waitClosed(timeoutMs);
  }

  close(): void {
    this.text.socket.destroy();
  }
}

/** base64 of SASL PLAIN (authzid NUL authcid NUL password). */
export function saslPlain(user: string, password: string, authzid = ''): string {
  return Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
}
