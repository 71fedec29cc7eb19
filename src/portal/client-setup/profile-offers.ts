import { createHash, randomBytes } from 'node:crypto';
import { limits } from '../../core/limits.js';

/** What the download of one profile needs: who may take it, and what goes in. */
export interface ProfileOffer {
  /** The portal user it was made for. */
  user: string;
  /** SHA-256 of the session token of the page that showed the code: only that session may take it. */
  sessionHash: string;
  codeName: string;
  /** The new application code: held here (memory only) until the download, like the page holds it. */
  code: string;
  scopes: string[];
  expiresAt: number;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The Apple profiles offered on "Add Application Code" result pages: each under a random token
 * (the download link), taken at most once, by the session that made the code, within
 * limits.profileOfferMs. Held in memory only: a restart, the download, or the time forgets it,
 * like the page forgets the code. At most limits.profileOffersMax wait (the oldest goes first).
 */
export class ProfileOffers {
  readonly #offers = new Map<string, ProfileOffer>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Holds the offer; returns its token (for the link). */
  put(o: Omit<ProfileOffer, 'sessionHash' | 'expiresAt'>, sessionToken: string): string {
    this.#sweep();
    while (this.#offers.size >= limits.profileOffersMax) {
      const oldest = this.#offers.keys().next().value;
      if (oldest === undefined) break;
      this.#offers.delete(oldest);
    }
    const token = randomBytes(24).toString('base64url');
    this.#offers.set(token, { ...o, sessionHash: hash(sessionToken), expiresAt: this.#clock() + limits.profileOfferMs });
    return token;
  }

  /** The offer for this token and session, removed (once); undefined when gone, expired or another session's. */
  take(token: string, user: string, sessionToken: string): ProfileOffer | undefined {
    const o = this.#offers.get(token);
    if (!o || o.user !== user || o.sessionHash !== hash(sessionToken)) return undefined;
    this.#offers.delete(token);
    return o.expiresAt > this.#clock() ? o : undefined;
  }

  get size(): number {
    return this.#offers.size;
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [k, o] of this.#offers) if (o.expiresAt <= now) this.#offers.delete(k);
  }
}
