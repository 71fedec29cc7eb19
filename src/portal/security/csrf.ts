import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens. A signed-in form carries its session's own random value (stored with the session,
 * new at every rotation). Forms shown before a session exists (sign-in) carry an HMAC of a random
 * per-browser cookie ("signed double submit"); the key is per process, so a restart only costs a
 * re-typed form (with [server] workers the supervisor gives every worker the same one: a form
 * shown by one worker is posted to another). Cookies are SameSite=Strict as well: two
 * independent guards.
 */
export class CsrfGuard {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  /** Token for a form shown before sign-in, bound to the browser's pre-session cookie. */
  preToken(preCookie: string): string {
    return createHmac('sha256', this.#key).update(`pre:${preCookie}`).digest('base64url');
  }

  newPreCookie(): string {
    return randomBytes(24).toString('base64url');
  }

  static equal(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
  }
}
