import { describe, expect, it } from 'vitest';
import { applyThreadPoolSize, threadPoolSizeFor } from '../../src/core/thread-pool-size.js';

describe('libuv thread pool size (argon2 runs there)', () => {
  it('one thread per core, at least 4, at most 32', () => {
    expect(threadPoolSizeFor(1)).toBe(4);
    expect(threadPoolSizeFor(2)).toBe(4);
    expect(threadPoolSizeFor(12)).toBe(12);
    expect(threadPoolSizeFor(128)).toBe(32);
  });

  it("sets UV_THREADPOOL_SIZE unless the operator did", () => {
    const env: NodeJS.ProcessEnv = {};
    expect(applyThreadPoolSize(env, 8)).toBe(8);
    expect(env.UV_THREADPOOL_SIZE).toBe('8');
    const own: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '3' };
    expect(applyThreadPoolSize(own, 8)).toBe(3);
    expect(own.UV_THREADPOOL_SIZE).toBe('3');
  });
});
