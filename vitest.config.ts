import { defineConfig } from 'vitest/config';

// Two cores: integration suites each start a real Dovecot, so keep files to two at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // argon2 at the test suite's cheap cost in every process the tests start (twostep serve and
    // the CLI inherit it; vitest sets NODE_ENV=test): see argon2ParamsFrom in src/crypto/hasher.ts.
    // Tests about the production cost build their hasher with ARGON2_PARAMS themselves.
    env: { TWOSTEP_TEST_ARGON2: 'cheap' },
  },
});
