import { limits } from '../../core/limits.js';
import { decodeUtf8Strict } from '../shared/base64-strict.js';
import type { LineReader } from '../shared/line-reader.js';
import { ParseError, type ParseFailure } from '../shared/parse-error.js';
import type { ImapArg, ImapCommand } from './imap-command.js';

export interface ReadCommandOptions {
  /** Called before reading a synchronising literal; sends the "+ OK" continuation. */
  onLiteralContinuation: () => void;
  maxLiteralBytes?: number;
  maxListDepth?: number;
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const HTTP_LINE = /^[A-Z]{3,7} \S+ HTTP\/\d(?:\.\d)?$/;
/** Tag: ASTRING-CHAR except "+" (RFC 3501 §9). */
const TAG = /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+$/;
/** Command name: letters, digits, "-", "_" (covers every registered IMAP command). */
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]*$/;
const LITERAL = /^\{(\d{1,10})(\+?)\}$/;

function isAtomByte(b: number): boolean {
  // ATOM-CHAR plus "]" (astring) and 8-bit (UTF-8 user names); no CTL, SP, ( ) { " \ .
  return b > 0x20 && b !== 0x7f && b !== LPAREN && b !== RPAREN && b !== LBRACE && b !== DQUOTE && b !== BACKSLASH;
}

/**
 * Reads one complete pre-auth command: `tag SP name [SP args] CRLF`, following synchronising
 * ({n}) and non-synchronising ({n+}) literals across lines. Returns null for an empty line.
 * Throws ParseError for syntax problems and LineReadError for stream/limit problems.
 */
export async function readImapCommand(reader: LineReader, o: ReadCommandOptions): Promise<ImapCommand | null> {
  const first = await reader.readLine();
  if (first.length === 0) return null;
  return new CommandParser(reader, o, first).parse();
}

class CommandParser {
  readonly #reader: LineReader;
  readonly #o: Required<ReadCommandOptions>;
  #line: Buffer;
  #pos = 0;
  #tag: string | undefined;
  #name: string | undefined;

  constructor(reader: LineReader, o: ReadCommandOptions, line: Buffer) {
    this.#reader = reader;
    this.#o = {
      onLiteralContinuation: o.onLiteralContinuation,
      maxLiteralBytes: o.maxLiteralBytes ?? limits.preAuthLiteralBytes,
      maxListDepth: o.maxListDepth ?? limits.preAuthListDepth,
    };
    this.#line = line;
  }

  async parse(): Promise<ImapCommand> {
    if (this.#line.length < 200 && HTTP_LINE.test(this.#line.toString('latin1'))) {
      throw new ParseError('http-request', 'HTTP request line');
    }
    const tag = this.#word();
    if (!TAG.test(tag)) throw new ParseError('no-tag', 'invalid tag');
    this.#tag = tag;
    if (!this.#eat(SP)) throw this.#error('missing command');
    const name = this.#word();
    if (!COMMAND.test(name)) throw this.#error('invalid command name');
    this.#name = name.toUpperCase();
    const args: ImapArg[] = [];
    while (!this.#atEnd()) {
      if (!this.#eat(SP)) throw this.#error('expected space');
      args.push(await this.#arg(0));
    }
    return { tag, name: this.#name, args };
  }

  #error(detail: string, reason: ParseFailure = 'syntax', fatal = false): ParseError {
    return new ParseError(reason, detail, { tag: this.#tag, command: this.#name, fatal });
  }

  #atEnd(): boolean {
    return this.#pos >= this.#line.length;
  }

  #eat(byte: number): boolean {
    if (this.#line[this.#pos] !== byte) return false;
    this.#pos++;
    return true;
  }

  /** Raw bytes up to the next SP (tag, command name). */
  #word(): string {
    const start = this.#pos;
    while (!this.#atEnd() && this.#line[this.#pos] !== SP) this.#pos++;
    return this.#line.toString('latin1', start, this.#pos);
  }

  async #arg(depth: number): Promise<ImapArg> {
    const b = this.#line[this.#pos];
    if (b === DQUOTE) return this.#quoted();
    if (b === LPAREN) return this.#list(depth + 1);
    if (b === LBRACE) return this.#literal();
    return this.#atom();
  }

  #atom(): ImapArg {
    const start = this.#pos;
    while (!this.#atEnd() && isAtomByte(this.#line[this.#pos] as number)) this.#pos++;
    if (this.#pos === start) throw this.#error('invalid character');
    const next = this.#line[this.#pos];
    if (next !== undefined && next !== SP && next !== RPAREN) throw this.#error('invalid character in atom');
    const value = decodeUtf8Strict(this.#line.subarray(start, this.#pos));
    if (value === null) throw this.#error('invalid UTF-8', 'encoding');
    return value.toUpperCase() === 'NIL' ? { kind: 'nil' } : { kind: 'atom', value };
  }

  #quoted(): ImapArg {
    this.#pos++; // opening quote
    const bytes: number[] = [];
    for (;;) {
      if (this.#atEnd()) throw this.#error('unterminated quoted string');
      const b = this.#line[this.#pos++] as number;
      if (b === DQUOTE) break;
      if (b === BACKSLASH) {
        const e = this.#line[this.#pos++];
        if (e !== DQUOTE && e !== BACKSLASH) throw this.#error('invalid escape in quoted string');
        bytes.push(e);
        continue;
      }
      if (b === 0 || b < 0x20 || b === 0x7f) throw this.#error('control character in quoted string', 'encoding');
      bytes.push(b);
    }
    const value = decodeUtf8Strict(Uint8Array.from(bytes));
    if (value === null) throw this.#error('invalid UTF-8', 'encoding');
    return { kind: 'string', value, literal: false };
  }

  async #list(depth: number): Promise<ImapArg> {
    if (depth > this.#o.maxListDepth) throw this.#error('lists nested too deep');
    this.#pos++; // "("
    const items: ImapArg[] = [];
    for (;;) {
      if (this.#atEnd()) throw this.#error('unbalanced parenthesis');
      if (this.#eat(RPAREN)) break;
      if (items.length > 0 && !this.#eat(SP)) throw this.#error('expected space in list');
      if (this.#atEnd()) throw this.#error('unbalanced parenthesis');
      items.push(await this.#arg(depth));
    }
    const next = this.#line[this.#pos];
    if (next !== undefined && next !== SP && next !== RPAREN) throw this.#error('garbage after list');
    return { kind: 'list', items };
  }

  async #literal(): Promise<ImapArg> {
    const m = LITERAL.exec(this.#line.toString('latin1', this.#pos));
    if (!m) throw this.#error('invalid literal');
    const size = Number(m[1]);
    const sync = m[2] !== '+';
    if (size > this.#o.maxLiteralBytes) {
      // A synchronising literal is never sent without our "+": refuse it and stay in step. The
      // client sends a non-synchronising one anyway, and we will not read it: hang up.
      throw this.#error('literal too big', 'literal-too-big', !sync);
    }
    if (sync) this.#o.onLiteralContinuation();
    const data = await this.#reader.readBytes(size);
    // The command continues on the line after the literal; read it before judging, so that a
    // refused literal does not leave its tail to be taken for the next command.
    this.#line = await this.#reader.readLine();
    this.#pos = 0;
    if (data.includes(0)) throw this.#error('NUL in literal', 'encoding');
    const value = decodeUtf8Strict(data);
    if (value === null) throw this.#error('invalid UTF-8', 'encoding');
    const next = this.#line[0];
    if (next !== undefined && next !== SP && next !== RPAREN) throw this.#error('garbage after literal');
    return { kind: 'string', value, literal: true };
  }
}
