import { TwostepError } from '../core/errors.js';

export const APP_CODE_NAME_MAX_CHARS = 64;

/** An application code's name, trimmed: 1-64 printable characters, else TwostepError('INVALID_INPUT'). */
export function normalizeAppCodeName(name: string): string {
  const n = name.trim();
  const chars = [...n].length;
  if (chars < 1 || chars > APP_CODE_NAME_MAX_CHARS) {
    throw new TwostepError('INVALID_INPUT', `application name must be 1-${APP_CODE_NAME_MAX_CHARS} characters`);
  }
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(n)) {
    throw new TwostepError('INVALID_INPUT', 'application name must contain printable characters only');
  }
  return n;
}
