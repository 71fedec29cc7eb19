import { isTwostepError } from './errors.js';

/**
 * An error as log fields that cannot carry a secret: the message only of errors whose wording is
 * known — twostep's own (TwostepError, never built from a password or code) and Node's system
 * errors (`connect ECONNREFUSED 127.0.0.1:143`); of anything else (a library's parse error may
 * quote the request body, i.e. a password) only its name and code.
 */
export function logSafeError(err: unknown): { errName: string; errCode?: string; err?: string } {
  if (!(err instanceof Error)) return { errName: typeof err };
  const code = (err as { code?: unknown }).code;
  const fields: { errName: string; errCode?: string; err?: string } = { errName: err.name };
  if (typeof code === 'string') fields.errCode = code.slice(0, 64);
  const system = typeof (err as { syscall?: unknown }).syscall === 'string';
  if (isTwostepError(err) || system) fields.err = err.message.slice(0, 200);
  return fields;
}
