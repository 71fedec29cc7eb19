import { decodeUtf8Strict } from '../shared/base64-strict.js';

/** One pre-AUTH command line: the verb (upper-cased) and the rest of the line. */
export interface SmtpCommand {
  verb: string;
  arg: string;
}

export type SmtpCommandParse =
  | { ok: true; command: SmtpCommand }
  /** empty: a blank line; syntax: not "VERB [args]" in UTF-8; http: a web request to the mail port. */
  | { ok: false; error: 'empty' | 'syntax' | 'http' };

/** Web clients and proxy probes (Postfix's smtpd_forbidden_commands: CONNECT GET POST): hang up. */
const HTTP_VERBS = new Set(['GET', 'POST', 'CONNECT', 'HEAD', 'PUT', 'OPTIONS']);

/** Parses "VERB" or "VERB SP arguments" (RFC 5321 §4.1.1); the verb is letters only. */
export function parseSmtpCommand(line: Buffer): SmtpCommandParse {
  const text = decodeUtf8Strict(line);
  if (text === null || /[\0\r\n]/.test(text)) return { ok: false, error: 'syntax' };
  const trimmed = text.replace(/[ \t]+$/, '');
  if (trimmed === '') return { ok: false, error: 'empty' };
  const m = /^([A-Za-z]{1,16})(?:[ \t]+(.*))?$/.exec(trimmed);
  if (!m) return { ok: false, error: 'syntax' };
  const verb = (m[1] as string).toUpperCase();
  if (HTTP_VERBS.has(verb)) return { ok: false, error: 'http' };
  return { ok: true, command: { verb, arg: m[2] ?? '' } };
}

/**
 * A client's EHLO/HELO name as twostep passes it on to the backend: one token of printable
 * characters (a domain, an address literal, or a UTF-8 name), at most 255 octets. Null otherwise.
 */
export function heloName(arg: string): string | null {
  if (arg === '' || Buffer.byteLength(arg) > 255) return null;
  return /^[^\s\p{Cc}]+$/u.test(arg) ? arg : null;
}
