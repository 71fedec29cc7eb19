import { isTwostepError, TwostepError } from '../core/errors.js';

/** Where a start-up check talks to: "imap.backend" and "127.0.0.1:143". */
export interface CheckedBackend {
  key: string;
  address: string;
}

const NETWORK_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is it running, and listening on that address?)',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed for now',
  ETIMEDOUT: 'connect timed out',
};

/** The first errno code in an error's cause chain. */
function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

/** A failed check as one line: "<key> <address>: <what>" with the code that sets the exit status. */
export function checkFailure(b: CheckedBackend, code: 'CONFIG_INVALID' | 'BACKEND_UNAVAILABLE', what: string): TwostepError {
  return new TwostepError(code, `${b.key} ${b.address}: ${what}`);
}

/**
 * A network or protocol fault of a backend check as one line. Unreachable, timed out or closed
 * (BACKEND_UNAVAILABLE) may pass: serve tries again. A TLS failure or an answer that is not the
 * protocol is the configuration's (CONFIG_INVALID, exit 2).
 */
export function backendFault(b: CheckedBackend, err: unknown, tlsKeys: string): TwostepError {
  if (!isTwostepError(err)) {
    return checkFailure(b, 'BACKEND_UNAVAILABLE', err instanceof Error ? err.message : String(err));
  }
  if (err.code === 'TLS_FAILED') return checkFailure(b, 'CONFIG_INVALID', `TLS: ${err.message}: check ${tlsKeys}`);
  if (err.code === 'BACKEND_PROTOCOL') return checkFailure(b, 'CONFIG_INVALID', `unexpected answer: ${err.message}`);
  if (err.code === 'CONFIG_INVALID') return err;
  const errno = errnoCode(err);
  const what = (errno && NETWORK_TEXT[errno]) ?? err.message;
  return checkFailure(b, 'BACKEND_UNAVAILABLE', what);
}

/** serve waits and tries again only for these: the backend may be starting. */
export function isTransient(err: unknown): boolean {
  return isTwostepError(err, 'BACKEND_UNAVAILABLE');
}
