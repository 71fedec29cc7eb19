import { limits } from '../../core/limits.js';
import { decodeUtf8Strict } from '../shared/base64-strict.js';
import { ParseError } from '../shared/parse-error.js';

/** One pre-auth command line: the keyword, upper-cased, and the rest of the line verbatim. */
export interface Pop3Command {
  name: string;
  /** Everything after the first space ('' when none). PASS keeps its spaces. */
  args: string;
}

const KEYWORD = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${limits.pop3CommandNameChars - 1}}$`);
const HTTP = /^(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|PATCH) \S+ HTTP\/\d/;
const CONTROL = /[\p{Cc}]/u;

/**
 * Parses one line (without CRLF) as a POP3 command (RFC 1939 §3: keyword, then arguments).
 * Throws ParseError: http-request, empty, syntax (keyword not 1-16 letters/digits), encoding
 * (invalid UTF-8 or a control character).
 */
export function parsePop3Command(line: Buffer): Pop3Command {
  const text = decodeUtf8Strict(line);
  if (text === null) throw new ParseError('encoding', 'invalid UTF-8');
  if (HTTP.test(text)) throw new ParseError('http-request', 'HTTP request line');
  if (text === '') throw new ParseError('empty', 'empty line');
  const space = text.indexOf(' ');
  const name = space < 0 ? text : text.slice(0, space);
  const args = space < 0 ? '' : text.slice(space + 1);
  if (!KEYWORD.test(name)) throw new ParseError('syntax', 'bad keyword');
  if (CONTROL.test(args)) throw new ParseError('encoding', 'control character');
  return { name: name.toUpperCase(), args };
}
