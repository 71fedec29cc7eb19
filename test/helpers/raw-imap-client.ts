import { connectTestSocket, SocketText } from './socket-text.js';

/**
 * A line-level IMAP client for assertions on exact responses (codes, capabilities) that
 * imapflow hides. It speaks plain TCP, STARTTLS and implicit TLS, and can bind a local address
 * (127.0.0.2) so the "real client IP" differs from twostep's own.
 */
export class RawImapClient {
  private readonly text: SocketText;
  private tagCounter = 0;

  private constructor(text: SocketText) {
    this.text = text;
  }

  static async connect(opts: { port: number; tls?: boolean; localAddress?: string }): Promise<RawImapClient> {
    return new RawImapClient(new SocketText(await connectTestSocket(opts), 'utf8'));
  }

  get closed(): boolean {
    return this.text.closed;
  }

  /** Wait until a line matching re arrives; returns all text up to and including that line. */
  until(re: RegExp, timeoutMs = 10_000): Promise<string> {
    return this.text.until(re, timeoutMs);
  }

  /**
   * The untagged BYE a session in IDLE hears, returned alone. Dovecot's IDLE keepalive
   * ("* OK Still here", every imap_idle_notify_interval, at a moment of its own) may come first;
   * any other line before the BYE is an error.
   */
  async idleBye(timeoutMs = 10_000): Promise<string> {
    const lines = (await this.until(/^\* BYE/, timeoutMs)).split('\r\n');
    const bye = lines.pop() as string;
    const other = lines.filter((l) => l !== '* OK Still here');
    if (other.length > 0) throw new Error(`before the BYE, not Dovecot's IDLE keepalive: ${JSON.stringify(other)}`);
    return bye;
  }

  greeting(): Promise<string> {
    return this.until(/^\* (OK|PREAUTH|BYE)/);
  }

  /** Send one tagged command; resolve with everything up to its tagged completion. */
  async command(text: string): Promise<string> {
    const tag = `t${++this.tagCounter}`;
    this.text.socket.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)`));
  }

  write(raw: string): void {
    this.text.socket.write(raw);
  }

  async starttls(): Promise<string> {
    const answer = await this.command('STARTTLS');
    if (!/ OK/.test(answer)) return answer;
    await this.text.startTls();
    return answer;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.text.waitClosed(timeoutMs);
  }

  close(): void {
    this.text.socket.destroy();
  }
}
