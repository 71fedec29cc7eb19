import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/sequencer.js';

// Two cores, three files at a time: an integration file spends much of its time waiting on real
// daemons and on the time its scenario is about (a store locked for 15 s, PostgreSQL gone for
// 10 s, a shutdown grace), so a third file uses the cores the waits leave (measured: 178 s against
// 225 s with two, the same CPU). Slow files start first (test/sequencer.ts).
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 20_000,
    sequence: { sequencer: SlowFirstSequencer },
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
