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

/**
 * argon2id at a cost that makes it free, for the test suite only: a real argon2id hash (verified
 * like any other: the parameters travel in the hash), 1 MiB and one pass instead of 19 MiB and
 * two. Reachable only through argon2ParamsFrom below, never from the config file.
 */
export const ARGON2_TEST_PARAMS = {
  type: argon2.argon2id,
  memoryCost: 1024, // KiB
  timeCost: 1,
  parallelism: 1,
} as const;

export type Argon2Params = typeof ARGON2_PARAMS | typeof ARGON2_TEST_PARAMS;

/** The environment variable that asks for ARGON2_TEST_PARAMS (value "cheap"); see argon2ParamsFrom. */
export const TEST_ARGON2_ENV = 'TWOSTEP_TEST_ARGON2';

/**
 * The parameters a process hashes with: ARGON2_PARAMS, unless both NODE_ENV=test and
 * TWOSTEP_TEST_ARGON2=cheap are set, as the test suite sets them for the `twostep` processes it
 * starts (vitest.config.ts). Two variables, neither of which a deployment sets, and no config key:
 * a test config copied into production cannot weaken the hashes. serve logs a warning when on.
 */
export function argon2ParamsFrom(env: NodeJS.ProcessEnv): Argon2Params {
  return env.NODE_ENV === 'test' && env[TEST_ARGON2_ENV] === 'cheap' ? ARGON2_TEST_PARAMS : ARGON2_PARAMS;
}

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

export function createArgon2Hasher(params: Argon2Params = ARGON2_PARAMS): Hasher {
  return {
    hash: (plain) => counted(() => argon2.hash(plain, params)),
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
