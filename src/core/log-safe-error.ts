import { isTwostepError } from './errors.js';

/** An error as log fields: its class, its code when it has one, and its words when they are safe. */
export interface ErrorFields {
  errName: string;
  errCode?: string;
  err?: string;
}

/**
 * The one way twostep logs an error (spread into the line: `{ event, ...logSafeError(err) }`).
 * Fields that cannot carry a secret: the message only of errors whose wording is known —
 * twostep's own (TwostepError, never built from a password or code), Node's system errors
 * (`connect ECONNREFUSED 127.0.0.1:143`) and SQLite's (`database is locked`; bound values never
 * appear in them) — with the cause's message appended when the cause is such an error too (of
 * another cause, its code: an OpenSSL reason such as ERR_SSL_WRONG_VERSION_NUMBER). Of
 * anything else (a library's parse error may quote the request body, i.e. a password) only its
 * name and code.
 */
export function logSafeError(err: unknown): ErrorFields {
  if (!(err instanceof Error)) return { errName: typeof err };
  const fields: ErrorFields = { errName: err.name };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') fields.errCode = code.slice(0, 64);
  if (safeWords(err)) fields.err = `${err.message}${causeText(err.cause)}`.slice(0, 300);
  return fields;
}

/** ": <message>" of a safe cause, " (<code>)" of another one with a code (an OpenSSL error), else ''. */
function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return '';
  if (safeWords(cause)) return `: ${cause.message}`;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code.slice(0, 64)})` : '';
}

function safeWords(err: Error): boolean {
  return isTwostepError(err) || typeof (err as { syscall?: unknown }).syscall === 'string' || err.name === 'SqliteError';
}
