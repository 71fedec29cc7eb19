import type { Config } from '../config/schema.js';
import { TwostepError } from '../core/errors.js';
import type { AppCodeScope } from '../store/types.js';
import type { Protocol } from './types.js';

/** What a code may be limited to, in the order they are shown. */
export const APP_CODE_SCOPES: readonly AppCodeScope[] = ['imap', 'pop3', 'smtp'];

const DAY_MS = 24 * 60 * 60_000;

/**
 * The scope a login needs, by the door it comes through:
 * - 'imap': twostep's IMAP, Dovecot's IMAP, and ManageSieve ('sieve'): filters act on the
 *   mailbox (and can forward it), so they belong to the code that may read it;
 * - 'pop3': twostep's POP3 and Dovecot's;
 * - 'smtp': twostep's SMTP, Postfix SASL through Dovecot ('smtp') and Dovecot's submission
 *   service ('submission'): all three send mail;
 * - null for anything else (another Dovecot service, e.g. a webmail's own name): only a code
 *   limited to nothing (every protocol) signs in there.
 */
export function scopeOf(protocol: Protocol): AppCodeScope | null {
  switch (protocol) {
    case 'imap':
    case 'sieve':
      return 'imap';
    case 'pop3':
      return 'pop3';
    case 'smtp':
    case 'submission':
      return 'smtp';
    default:
      return null;
  }
}

/** Why an otherwise valid code does not sign in here and now: 'scope', 'expired', or null (it does). */
export function codeRefusal(c: { scopes: readonly AppCodeScope[] | null; expiresAt: number | null }, protocol: Protocol, now: number): 'scope' | 'expired' | null {
  if (c.expiresAt !== null && c.expiresAt <= now) return 'expired';
  if (c.scopes === null) return null;
  const needed = scopeOf(protocol);
  return needed !== null && c.scopes.includes(needed) ? null : 'scope';
}

/**
 * The scopes asked for ("imap", "SMTP", ...), checked: each known, at least one; null when all
 * are asked for or none is given (every protocol, now and for doors added later).
 */
export function normalizeScopes(input: readonly string[] | undefined): AppCodeScope[] | null {
  if (input === undefined) return null;
  const asked = new Set(input.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
  for (const s of asked) {
    if (!(APP_CODE_SCOPES as readonly string[]).includes(s)) {
      throw new TwostepError('INVALID_INPUT', `unknown protocol "${s.slice(0, 16)}": choose from ${APP_CODE_SCOPES.join(', ')}`);
    }
  }
  if (asked.size === 0) throw new TwostepError('INVALID_INPUT', `choose at least one of ${APP_CODE_SCOPES.join(', ')}`);
  const list = APP_CODE_SCOPES.filter((s) => asked.has(s));
  return list.length === APP_CODE_SCOPES.length ? null : list;
}

/** The days a new code lives when its maker picks none: [codes] default_expiry_days, else max_expiry_days; 0 = never. */
export function defaultExpiryDays(codes: Config['codes']): number {
  return codes.default_expiry_days > 0 ? codes.default_expiry_days : codes.max_expiry_days;
}

/**
 * When a new code expires: `days` (0 = never) or the default, within [codes] max_expiry_days.
 * Null: never.
 */
export function expiryOf(codes: Config['codes'], days: number | undefined, now: number): number | null {
  const d = days ?? defaultExpiryDays(codes);
  if (!Number.isInteger(d) || d < 0 || d > 3650) throw new TwostepError('INVALID_INPUT', 'the lifetime must be a whole number of days, 0-3650 (0: never expires)');
  const max = codes.max_expiry_days;
  if (max > 0 && (d === 0 || d > max)) {
    throw new TwostepError('INVALID_INPUT', `application codes must expire within ${max} days here`);
  }
  return d === 0 ? null : now + d * DAY_MS;
}
