/**
 * Unexpected faults carry a stable machine-readable code and an optional cause.
 * Expected authentication failures are values (AuthDecision), never exceptions.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'STORE_FAILED'
  /** The database stayed locked by another process past limits.storeBusyMs: try again in a moment. */
  | 'STORE_BUSY'
  | 'USER_NOT_FOUND'
  | 'USER_NOT_ALLOWED'
  | 'BAD_STATE'
  | 'NAME_TAKEN'
  | 'NOT_FOUND'
  | 'LIMIT_REACHED'
  | 'INVALID_INPUT'
  | 'INVALID_CODE'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_PROTOCOL'
  | 'TLS_FAILED'
  | 'INTERNAL';

export class TwostepError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwostepError';
    this.code = code;
  }
}

export function isTwostepError(err: unknown, code?: ErrorCode): err is TwostepError {
  return err instanceof TwostepError && (code === undefined || err.code === code);
}
