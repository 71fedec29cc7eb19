import { decodeUtf8Strict } from '../shared/base64-strict.js';
import { ParseError } from '../shared/parse-error.js';

/** One command line: the verb (upper-cased) and the rest of the line. */
export interface SmtpCommand {
  name: string;
  arg: string;
}

/** Web clients and proxy probes (Postfix's smtpd_forbidden_commands: CONNECT GET POST): hang up. */
const HTTP_VERBS = new Set(['GET', 'POST', 'CONNECT', 'HEAD', 'PUT', 'OPTIONS']);

/**
 * Parses "VERB" or "VERB SP arguments" (RFC 5321 §4.1.1); the verb is letters only. Throws
 * ParseError: encoding (invalid UTF-8, NUL, CR), empty, syntax, http-request.
 */
export function parseSmtpCommand(line: Buffer): SmtpCommand {
  const text = decodeUtf8Strict(line);
  if (text === null || /[\0\r\n]/.test(text)) throw new ParseError('encoding', 'invalid characters');
  const trimmed = text.replace(/[ \t]+$/, '');
  if (trimmed === '') throw new ParseError('empty', 'empty line');
  const m = /^([A-Za-z]{1,16})(?:[ \t]+(.*))?$/.exec(trimmed);
  if (!m) throw new ParseError('syntax', 'not a command');
  const name = (m[1] as string).toUpperCase();
  if (HTTP_VERBS.has(name)) throw new ParseError('http-request', 'HTTP request line');
  return { name, arg: m[2] ?? '' };
}

/**
 * A client's EHLO/HELO name as twostep passes it on to the backend: one token of printable
 * characters (a domain, an address literal, or a UTF-8 name), at most 255 octets. Null otherwise.
 */
export function heloName(arg: string): string | null {
  if (arg === '' || Buffer.byteLength(arg) > 255) return null;
  return /^[^\s\p{Cc}]+$/u.test(arg) ? arg : null;
}
