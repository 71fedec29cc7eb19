import { limits } from '../../core/limits.js';
import { decodeUtf8Strict } from '../shared/base64-strict.js';

/** One pre-auth command line: the keyword, upper-cased, and the rest of the line verbatim. */
export interface Pop3Command {
  name: string;
  /** Everything after the first space ('' when none). PASS keeps its spaces. */
  args: string;
}

export type Pop3CommandParse =
  | { ok: true; command: Pop3Command }
  /** empty line, keyword not 1-16 letters/digits, invalid UTF-8, or a control character. */
  | { ok: false; why: 'empty' | 'bad-keyword' | 'encoding' }
  /** The client speaks HTTP to a POP3 port: fail closed, no reply. */
  | { ok: false; why: 'http' };

const KEYWORD = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${limits.pop3CommandNameChars - 1}}$`);
const HTTP = /^(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|PATCH) \S+ HTTP\/\d/;
const CONTROL = /[\p{Cc}]/u;

/** Parses one line (without CRLF) as a POP3 command (RFC 1939 §3: keyword, then arguments). */
export function parsePop3Command(line: Buffer): Pop3CommandParse {
  const text = decodeUtf8Strict(line);
  if (text === null) return { ok: false, why: 'encoding' };
  if (HTTP.test(text)) return { ok: false, why: 'http' };
  if (text === '') return { ok: false, why: 'empty' };
  const space = text.indexOf(' ');
  const name = space < 0 ? text : text.slice(0, space);
  const args = space < 0 ? '' : text.slice(space + 1);
  if (!KEYWORD.test(name)) return { ok: false, why: 'bad-keyword' };
  if (CONTROL.test(args)) return { ok: false, why: 'encoding' };
  return { ok: true, command: { name: name.toUpperCase(), args } };
}
