import type net from 'node:net';
import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { LineReader } from '../protocols/shared/line-reader.js';
import { encodeSaslPlain } from '../protocols/shared/sasl-plain.js';
import { connectUpstream, startUpstreamTls, type UpstreamTarget } from '../protocols/shared/upstream-connect.js';
import { extensionMap } from '../protocols/smtp/ehlo-extensions.js';
import { readSmtpReply, replyText, type SmtpReply } from '../protocols/smtp/read-smtp-reply.js';

/** The mail server notices go to ([notify] smtp, smtp_tls, smtp_ca, smtp_user). */
export interface SubmitTarget extends UpstreamTarget {
  /** EHLO name: the host part of [notify] from. */
  helo: string;
  login?: { user: string; password: Secret };
}

/** One mail's fate: taken, or refused for good (5xx) or for now (4xx). */
export type SubmitOutcome = { ok: true } | { ok: false; permanent: boolean; detail: string };

/** Lines starting with "." get one more (RFC 5321 §4.5.2), and the data ends with CRLF.CRLF. */
export function dotStuff(data: Buffer): Buffer {
  const text = data.toString('utf8').replace(/\r?\n/g, '\r\n');
  const stuffed = text.replace(/^\./gm, '..');
  return Buffer.from(`${stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`}.\r\n`, 'utf8');
}

/**
 * A short SMTP client for twostep's own notices: connect (implicit TLS, or STARTTLS before
 * anything else), EHLO, AUTH PLAIN when configured (only over TLS), then one MAIL/RCPT/DATA per
 * notice on the same connection. Each reply has a deadline (limits.noticeSmtpReplyMs) and a
 * byte cap; a fault of the connection throws TwostepError (BACKEND_UNAVAILABLE, TLS_FAILED,
 * BACKEND_PROTOCOL), a refused mail is an outcome.
 */
export class SmtpSubmission {
  #socket: net.Socket;
  #reader: LineReader;
  #ext = new Map<string, string[]>();

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#reader = SmtpSubmission.#readerOf(socket);
  }

  static #readerOf(socket: net.Socket): LineReader {
    socket.on('error', () => {}); // reads report it
    return new LineReader(socket, { maxLineBytes: limits.noticeSmtpReplyBytes, maxTotalBytes: Infinity });
  }

  /** Connects and logs in; `signal` (the sender closing) ends the connection at any point after the connect. */
  static async open(t: SubmitTarget, signal?: AbortSignal): Promise<SmtpSubmission> {
    const c = new SmtpSubmission(await connectUpstream(t, limits.noticeSmtpConnectMs));
    if (signal?.aborted) c.destroy();
    signal?.addEventListener('abort', () => c.destroy(), { once: true });
    try {
      const greeting = await c.#reply();
      if (greeting.code !== 220) throw new TwostepError('BACKEND_UNAVAILABLE', `greeting: ${replyText(greeting)}`);
      await c.#ehlo(t.helo);
      if (t.tls === 'starttls') {
        const r = await c.#command('STARTTLS');
        if (r.code !== 220) throw new TwostepError('TLS_FAILED', `STARTTLS refused: ${replyText(r)}`);
        c.#reader.detach();
        c.#socket = await startUpstreamTls(c.#socket, t, limits.noticeSmtpConnectMs);
        c.#reader = SmtpSubmission.#readerOf(c.#socket);
        await c.#ehlo(t.helo); // RFC 3207 §4.2: what was said before TLS no longer counts
      }
      if (t.login) {
        if (!c.#ext.get('AUTH')?.some((m) => m.toUpperCase() === 'PLAIN')) throw new TwostepError('BACKEND_PROTOCOL', 'the mail server offers no AUTH PLAIN');
        const r = await c.#command(`AUTH PLAIN ${encodeSaslPlain('', t.login.user, t.login.password)}`);
        if (r.code !== 235) throw new TwostepError('BACKEND_PROTOCOL', `login as ${t.login.user} refused: ${replyText(r)}`);
      }
      return c;
    } catch (err) {
      c.#socket.destroy();
      throw err;
    }
  }

  /** Hands one mail over; `eightBit` asks for BODY=8BITMIME (when offered). */
  async send(from: string, to: string, data: Buffer, eightBit: boolean): Promise<SubmitOutcome> {
    const utf8 = /[\u0080-\uffff]/.test(from + to);
    if (utf8 && !this.#ext.has('SMTPUTF8')) return { ok: false, permanent: true, detail: 'the address is not ASCII and the server has no SMTPUTF8' };
    const params = `${eightBit && this.#ext.has('8BITMIME') ? ' BODY=8BITMIME' : ''}${utf8 ? ' SMTPUTF8' : ''}`;
    for (const [line, want] of [[`MAIL FROM:<${from}>${params}`, 250], [`RCPT TO:<${to}>`, 250], ['DATA', 354]] as const) {
      const r = await this.#command(line);
      if (r.code !== want) return this.#refused(r);
    }
    this.#socket.write(dotStuff(data));
    const end = await this.#reply();
    return end.code === 250 ? { ok: true } : this.#refused(end);
  }

  /** QUIT, and the connection closes whatever the server says. */
  close(): void {
    this.#reader.detach();
    this.#socket.resume();
    this.#socket.end('QUIT\r\n');
    setTimeout(() => this.#socket.destroy(), limits.closeLingerMs).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  async #refused(r: SmtpReply): Promise<SubmitOutcome> {
    const out: SubmitOutcome = { ok: false, permanent: r.code >= 500, detail: replyText(r) };
    if (r.code !== 354) await this.#command('RSET'); // ready for the next mail
    return out;
  }

  async #ehlo(helo: string): Promise<void> {
    const r = await this.#command(`EHLO ${helo}`);
    if (r.code !== 250) throw new TwostepError('BACKEND_PROTOCOL', `EHLO refused: ${replyText(r)}`);
    this.#ext = extensionMap(r.lines);
  }

  #command(line: string): Promise<SmtpReply> {
    this.#socket.write(`${line}\r\n`);
    return this.#reply();
  }

  /** One reply within limits.noticeSmtpReplyMs; a timeout or a closed connection destroys the socket and throws. */
  async #reply(): Promise<SmtpReply> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => {
        this.#socket.destroy();
        reject(new TwostepError('BACKEND_UNAVAILABLE', 'the mail server did not answer in time'));
      }, limits.noticeSmtpReplyMs);
    });
    try {
      return await Promise.race([readSmtpReply(this.#reader), timeout]);
    } catch (err) {
      if (err instanceof TwostepError && err.code !== 'BAD_STATE') throw err;
      throw new TwostepError('BACKEND_UNAVAILABLE', 'the mail server closed the connection', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
