// Types of smtp-client.mjs (for test/unit/bench-smtp-client.test.ts).
export declare class SmtpError extends Error {}
export declare function dotStuffed(text: string): Buffer;
export interface SmtpReply {
  code: number;
  /** All lines of the reply, CRLF-joined. */
  text: string;
}
export declare class SmtpConn {
  static open(o: { port: number; host?: string; timeoutMs?: number }): Promise<SmtpConn>;
  static expect(r: SmtpReply, code: number, what: string): SmtpReply;
  readonly closed: boolean;
  extensions: Set<string>;
  greeting: string;
  reply(timeoutMs?: number): Promise<SmtpReply>;
  write(data: string | Buffer): void;
  command(line: string, timeoutMs?: number): Promise<SmtpReply>;
  ehlo(name: string): Promise<void>;
  authPlain(user: string, password: string): Promise<void>;
  send(m: { from: string; to: string; data: Buffer }): Promise<string>;
  quit(): Promise<void>;
  close(): void;
}
