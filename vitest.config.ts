import { defineConfig } from 'vitest/config';

// Two cores: two files at a time (integration files each start a real Dovecot and more).
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // argon2 at the test suite's cheap cost in every process the tests start (twostep serve and
    // the CLI inherit it; vitest sets NODE_ENV=test): see argon2ParamsFrom in src/crypto/hasher.ts.
    // Tests about the production cost build their hasher with ARGON2_PARAMS themselves.
    env: { TWOSTEP_TEST_ARGON2: 'cheap' },
    projects: [
      {
        extends: true,
        // Unit files share their worker's modules (no fresh import of src per file: half the CPU
        // of the unit run). They leave nothing behind: stores closed, timers and umask restored.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false },
      },
      {
        extends: true,
        // Each integration or browser file in a process of its own, as it starts real daemons.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'] },
      },
    ],
  },
});
