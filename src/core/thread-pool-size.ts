import { availableParallelism } from 'node:os';

/** libuv's default pool size; fewer would slow file and DNS work behind argon2. */
const MIN_THREADS = 4;
/** Each argon2 verification in flight holds 19 MiB (ARGON2_PARAMS.memoryCost): 32 → ~600 MiB. */
const MAX_THREADS = 32;

/**
 * Threads for libuv's pool, where argon2 runs (and file, DNS and zlib work): one per core, so
 * concurrent first logins use every core, at least libuv's default of 4, at most MAX_THREADS.
 */
export function threadPoolSizeFor(cores: number): number {
  return Math.min(MAX_THREADS, Math.max(MIN_THREADS, Math.floor(cores)));
}

/**
 * Sets UV_THREADPOOL_SIZE for this process unless the operator set it. libuv reads it once, when
 * the pool is first used, so this must run at process start, before any file, DNS or crypto
 * work (bin/twostep calls it before loading the program). Returns the size in effect.
 */
export function applyThreadPoolSize(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  const set = Number(env.UV_THREADPOOL_SIZE);
  if (Number.isInteger(set) && set > 0) return set;
  const n = threadPoolSizeFor(cores);
  env.UV_THREADPOOL_SIZE = String(n);
  return n;
}
