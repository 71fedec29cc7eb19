import { TwostepError, isTwostepError } from '../../core/errors.js';

/** Socket errors of a connection that failed or broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT']);

/**
 * The database cannot be reached or went away: a refused or broken connection, a connect that
 * timed out, the server shutting down (57P01-57P03) or a connection exception (class 08).
 */
export function isUnreachable(err: unknown): boolean {
  if (isTwostepError(err)) return err.message.startsWith('cannot reach the database');
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Client was closed/i.test(message);
}

/**
 * A driver error as the store's callers expect it: unreachable → STORE_FAILED "cannot reach the
 * database" (the policy answers a login with a temporary error; the write-behind queue waits);
 * a lock of another node held past limits.pgLockWaitMs (55P03) → STORE_BUSY; anything else (a
 * constraint) as it is.
 */
export function pgFault(err: unknown): unknown {
  if (isTwostepError(err)) return err;
  if (isUnreachable(err)) {
    const why = err instanceof Error ? err.message : String(err);
    return new TwostepError('STORE_FAILED', `cannot reach the database (${why})`, { cause: err });
  }
  if ((err as { code?: unknown } | null)?.code === '55P03') {
    return new TwostepError('STORE_BUSY', 'another node holds a lock this change needs; nothing was changed: try again in a moment', { cause: err });
  }
  return err;
}
