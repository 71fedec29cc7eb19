import * as argon2 from 'argon2';
import { metrics } from '../core/metrics.js';

/**
 * argon2id cost for application and one-time codes. These are the OWASP minimum parameters
 * (m=19 MiB, t=2, p=1): a code is 16 random letters (~75 bits), so the hash only has to make an
 * offline attack on a stolen database expensive, not stretch a weak password; a login stays fast
 * (a few tens of ms) and one login costs at most one verification.
 */
export const ARGON2_PARAMS = {
  type: argon2.argon2id,
  memoryCost: 19_456, // KiB
  timeCost: 2,
  parallelism: 1,
} as const;

/** Hash and verify codes. Injectable so tests can count verifications. */
export interface Hasher {
  hash(plain: string): Promise<string>;
  /** False (never throws) when the code does not match or the stored hash is unreadable. */
  verify(hash: string, plain: string): Promise<boolean>;
}

/** Counted while it runs (twostep_argon2_in_flight / _queued). */
async function counted<T>(work: () => Promise<T>): Promise<T> {
  metrics.argon2Started();
  try {
    return await work();
  } finally {
    metrics.argon2Finished();
  }
}

export function createArgon2Hasher(): Hasher {
  return {
    hash: (plain) => counted(() => argon2.hash(plain, ARGON2_PARAMS)),
    verify: (hash, plain) =>
      counted(async () => {
        try {
          return await argon2.verify(hash, plain);
        } catch {
          return false;
        }
      }),
  };
}
