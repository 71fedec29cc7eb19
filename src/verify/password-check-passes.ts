import { randomBytes, timingSafeEqual } from 'node:crypto';
import { limits } from '../core/limits.js';
import { normalizeUsername } from '../policy/index.js';

/**
 * Where passes are issued and redeemed: a PasswordCheckPasses in this process, or, with
 * [server] workers, the supervisor's one (src/server/cluster/shared-passes.ts): the portal may
 * issue a pass in one worker and Dovecot's question reach the verify service in another.
 */
export interface PasswordPasses {
  issue(user: string): string | Promise<string>;
  redeem(user: string, pass: string): boolean | Promise<boolean>;
}

/**
 * One-time passes for the portal's own password check when Dovecot asks twostep (the Lua
 * passdb). The portal checks a user's main password with an IMAP login to Dovecot; for a
 * two-step account the passdb would refuse it like any main password. So the portal sends a
 * pass in its IMAP ID (`"x-twostep-check" "<pass>"`, kept by imap_id_retain), and the verify
 * service, in the same process, redeems it and answers "not mine": Dovecot's own passdb then
 * judges the password, as the portal asked. A pass is 128 random bits, names one user, works
 * once, and lapses after limits.portalPasswordCheckMs; an unknown, used or foreign pass counts
 * for nothing (the login is decided as any other).
 */
export class PasswordCheckPasses implements PasswordPasses {
  readonly #passes = new Map<string, { user: string; expires: number }>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** A pass for one password check of `user`. */
  issue(user: string): string {
    this.#sweep();
    if (this.#passes.size >= limits.passwordCheckPassesMax) this.#passes.delete(this.#passes.keys().next().value as string);
    const pass = randomBytes(16).toString('base64url');
    this.#passes.set(pass, { user: normalizeUsername(user), expires: this.#clock() + limits.portalPasswordCheckMs });
    return pass;
  }

  /** True once for a live pass issued for `user`; the pass is gone afterwards either way. */
  redeem(user: string, pass: string): boolean {
    const entry = this.#passes.get(pass);
    if (!entry) return false;
    this.#passes.delete(pass);
    const a = Buffer.from(entry.user);
    const b = Buffer.from(normalizeUsername(user));
    return entry.expires > this.#clock() && a.length === b.length && timingSafeEqual(a, b);
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [k, v] of this.#passes) if (v.expires <= now) this.#passes.delete(k);
  }
}
