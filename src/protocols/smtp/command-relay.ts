import type net from 'node:net';
import { limits } from '../../core/limits.js';
import { LogEvent } from '../../core/log-events.js';
import type { Logger } from '../../core/logger.js';
import { splice, type Splice } from '../shared/splice.js';
import { afterAuthCommand, type AfterAuthContext } from './after-auth-command.js';
import { backendFarewell } from './backend-farewell.js';
import { DataEnd } from './data-end.js';
import { smtpReply } from './responses.js';

const LF = 0x0a;
const HYPHEN = 0x2d;
const TWO = 0x32;
const EMPTY = Buffer.alloc(0);
const RSET = Buffer.from('RSET\r\n');

/** A reply the client is owed, in the order of its commands (RFC 2920). */
type Owed =
  /** Postfix's reply to a relayed command; `then` runs once it came (DATA, end of data). */
  | { kind: 'relay'; then?: (code: number) => void }
  /** Postfix's reply to the RSET sent in place of an EHLO: dropped when it is a success. */
  | { kind: 'swallow' }
  /** twostep's own reply, said in its turn; 'hang-up' ends the session after it. */
  | { kind: 'own' | 'hang-up'; text: string };

/**
 * How the client's bytes are read: command lines; held (nothing read until Postfix answered
 * DATA or the end of the data); message data (until the end line); a BDAT chunk (n bytes);
 * closing (after a hang-up, nothing more).
 */
type Mode = 'command' | 'held' | 'data' | 'chunk' | 'closing';

export interface SmtpRelayOptions extends AfterAuthContext {
  log: Logger;
}

/**
 * SMTP after AUTH: Postfix trusts twostep, so the client's traffic is read at command
 * boundaries for the whole session instead of copied blind. Each command line is judged by
 * after-auth-command.ts (relayed, answered by twostep, or EHLO answered with an RSET relayed in
 * its place); DATA payloads (until their end line) and BDAT chunks pass as bytes. Replies keep
 * the order of the commands under pipelining: twostep's own reply is said only after every
 * earlier command's reply from Postfix was relayed. After DATA, and after the end of its data,
 * the client is read again only once Postfix answered, so both always agree on what is a
 * command. The splice (shared/splice.ts) keeps the byte counts, deadlines and teardown.
 */
class SmtpCommandRelay {
  readonly #client: net.Socket;
  readonly #backend: net.Socket;
  readonly #o: SmtpRelayOptions;
  readonly #owed: Owed[] = [];
  #mode: Mode = 'command';
  /** The command line read so far (no LF yet), and whether it is an over-long one being skipped. */
  #line: Buffer = EMPTY;
  #skipping = false;
  #dataEnd = new DataEnd();
  #chunkLeft = 0;
  /** Client bytes read while held, judged once Postfix answered. */
  #held: Buffer = EMPTY;
  /** Postfix's reply line read so far. */
  #reply: Buffer = EMPTY;
  #toClient: Buffer[] = [];
  #waitingDrain = { client: false, backend: false };
  hangUp: (() => void) | undefined;

  constructor(client: net.Socket, backend: net.Socket, o: SmtpRelayOptions) {
    this.#client = client;
    this.#backend = backend;
    this.#o = o;
  }

  /** Every command answered and no message data under way: the client may hear a 421 now. */
  atReplyBoundary(): boolean {
    return this.#owed.length === 0 && this.#mode === 'command';
  }

  readonly fromClient = (chunk: Buffer): void => {
    const toBackend: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      const rest = chunk.subarray(i);
      switch (this.#mode) {
        case 'closing': // after a hang-up: nothing more is judged or relayed
          i = chunk.length;
          break;
        case 'held':
          this.#held = this.#held.length ? Buffer.concat([this.#held, rest]) : rest;
          this.#client.pause();
          i = chunk.length;
          break;
        case 'data': {
          const end = this.#dataEnd.find(rest);
          toBackend.push(end < 0 ? rest : rest.subarray(0, end));
          i = end < 0 ? chunk.length : i + end;
          if (end >= 0) this.#hold((code) => this.#expect(code));
          break;
        }
        case 'chunk': {
          const n = Math.min(this.#chunkLeft, rest.length);
          toBackend.push(rest.subarray(0, n));
          this.#chunkLeft -= n;
          i += n;
          if (this.#chunkLeft === 0) this.#mode = 'command';
          break;
        }
        case 'command':
          i += this.#commandBytes(rest, toBackend);
          break;
      }
    }
    this.#write(this.#backend, toBackend, 'backend');
    this.#flushClient();
  };

  readonly fromBackend = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length) {
      const lf = chunk.indexOf(LF, i);
      if (lf < 0) {
        this.#reply = Buffer.concat([this.#reply, chunk.subarray(i)]);
        if (this.#reply.length > limits.backendLineBytes) this.#reply = EMPTY; // no SMTP reply line is this long
        break;
      }
      const line = this.#reply.length ? Buffer.concat([this.#reply, chunk.subarray(i, lf + 1)]) : chunk.subarray(i, lf + 1);
      this.#reply = EMPTY;
      i = lf + 1;
      this.#replyLine(line);
    }
    this.#flushClient();
  };

  /** Reads command line bytes from `bytes` (up to one line); returns how many it took. */
  #commandBytes(bytes: Buffer, toBackend: Buffer[]): number {
    const lf = bytes.indexOf(LF);
    const piece = lf < 0 ? bytes : bytes.subarray(0, lf + 1);
    if (this.#skipping) {
      if (lf >= 0) this.#skipping = false; // the end of an over-long line: never relayed
      return piece.length;
    }
    const line = this.#line.length ? Buffer.concat([this.#line, piece]) : piece;
    if (lf < 0) {
      this.#line = line.length > limits.smtpLineBytes ? EMPTY : Buffer.from(line);
      if (line.length > limits.smtpLineBytes) {
        this.#skipping = true;
        this.#owe({ kind: 'own', text: smtpReply.lineTooLong });
      }
      return piece.length;
    }
    this.#line = EMPTY;
    if (line.length > limits.smtpLineBytes + 2) this.#owe({ kind: 'own', text: smtpReply.lineTooLong });
    else this.#command(line, toBackend);
    return piece.length;
  }

  /** One complete command line (with its line end). */
  #command(line: Buffer, toBackend: Buffer[]): void {
    const end = line.length >= 2 && line[line.length - 2] === 0x0d ? line.length - 2 : line.length - 1;
    const a = afterAuthCommand(line.toString('latin1', 0, end), this.#o);
    switch (a.do) {
      case 'relay':
      case 'bdat':
        toBackend.push(line);
        this.#owe({ kind: 'relay' });
        if (a.do === 'bdat' && a.size > 0) {
          this.#mode = 'chunk';
          this.#chunkLeft = a.size;
        }
        return;
      case 'data':
        toBackend.push(line);
        this.#dataEnd = new DataEnd();
        return this.#hold((code) => this.#expect(code === 354 ? 'data' : 'command'));
      case 'answer':
        if (a.refused) this.#o.log.info({ event: LogEvent.smtpCommandRefused, command: a.refused });
        for (const text of a.lines) this.#owe({ kind: 'own', text });
        return;
      case 'hello':
        toBackend.push(RSET);
        this.#owe({ kind: 'swallow' });
        for (const text of a.lines) this.#owe({ kind: 'own', text });
        return;
      case 'hang-up':
        this.#mode = 'closing';
        return this.#owe({ kind: 'hang-up', text: a.line });
    }
  }

  /** Relayed: nothing more is read until Postfix's reply to it came; then `then` picks the mode. */
  #hold(then: (code: number) => void): void {
    this.#owe({ kind: 'relay', then });
    this.#mode = 'held';
  }

  /** Postfix answered what held the client: read on in `mode` (a code: after the data, commands). */
  #expect(next: number | Mode): void {
    this.#mode = typeof next === 'number' ? 'command' : next;
    const held = this.#held;
    this.#held = EMPTY;
    if (held.length) this.fromClient(held);
    if (this.#mode !== 'held' && !this.#waitingDrain.backend) this.#client.resume();
  }

  #replyLine(line: Buffer): void {
    const head = this.#owed[0];
    const last = line[3] !== HYPHEN;
    if (head?.kind !== 'swallow' || line[0] !== TWO) this.#toClient.push(line);
    if (!last || !head) return;
    this.#owed.shift();
    if (head.kind === 'relay' && head.then) {
      this.#flushClient(); // the reply before anything the held bytes bring
      head.then(Number(line.toString('latin1', 0, 3)));
    }
    this.#sayOwn();
  }

  #owe(o: Owed): void {
    this.#owed.push(o);
    this.#sayOwn();
  }

  /** Says twostep's own replies that are next in turn. */
  #sayOwn(): void {
    for (let head = this.#owed[0]; head && (head.kind === 'own' || head.kind === 'hang-up'); head = this.#owed[0]) {
      this.#owed.shift();
      this.#toClient.push(Buffer.from(`${head.text}\r\n`));
      if (head.kind === 'hang-up') {
        this.#flushClient();
        this.hangUp?.();
        return;
      }
    }
  }

  #flushClient(): void {
    const out = this.#toClient;
    this.#toClient = [];
    this.#write(this.#client, out, 'client');
  }

  /** Writes, pausing the other side while `to` is full (the flow control pipe() would do). */
  #write(to: net.Socket, bytes: Buffer[], side: 'client' | 'backend'): void {
    if (bytes.length === 0 || to.destroyed || to.writableEnded) return;
    if (to.write(bytes.length === 1 ? (bytes[0] as Buffer) : Buffer.concat(bytes)) || this.#waitingDrain[side]) return;
    const from = side === 'client' ? this.#backend : this.#client;
    this.#waitingDrain[side] = true;
    from.pause();
    to.once('drain', () => {
      this.#waitingDrain[side] = false;
      if (side === 'client' || this.#mode !== 'held') from.resume();
    });
  }
}

/**
 * The relay of one SMTP session after AUTH: the command relay over a splice with SMTP's idle
 * deadline, its 421 when Postfix goes away between replies, and its reply boundary for the
 * shutdown goodbye. `pending` is what the client pipelined after its AUTH: judged like the rest.
 */
export function smtpRelay(client: net.Socket, backend: net.Socket, pending: Buffer, o: SmtpRelayOptions): Splice {
  const relay = new SmtpCommandRelay(client, backend, o);
  const spliced = splice(client, backend, {
    idleMs: limits.smtpProxyIdleMs,
    lingerMs: limits.spliceLingerMs,
    backendGone: backendFarewell(backend),
    replyBoundary: () => relay.atReplyBoundary(),
    up: relay.fromClient,
    down: relay.fromBackend,
  });
  relay.hangUp = () => spliced.goodbye(EMPTY, 'hang-up');
  if (pending.length) relay.fromClient(pending);
  return spliced;
}
