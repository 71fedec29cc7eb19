import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each slow file took in a full run on a 2-core machine (2026-12-01): they start first, so
 * that the run does not end on one long file while the other workers sit idle. vitest orders by
 * its own cache of the last run when it has one; a fresh clone (CI) has none and would order by
 * file size. Only the order depends on this table: a file missing from it, or slower than written,
 * still runs.
 */
const SLOW_SECONDS: Record<string, number> = {
  'test/integration/notices.test.ts': 40,
  'test/integration/dovecot-passdb.test.ts': 38,
  'test/integration/several-nodes.test.ts': 24,
  'test/e2e/portal-admin.test.ts': 23,
  'test/integration/owner-never-locked-out.test.ts': 22,
  'test/integration/serve-signals.test.ts': 20,
  'test/integration/store-lock.test.ts': 19,
  'test/integration/startup-checks.test.ts': 16,
  'test/unit/store-postgres.test.ts': 15,
  'test/e2e/portal-user.test.ts': 13,
  'test/integration/connection-limits.test.ts': 10,
  'test/integration/shutdown-goodbyes.test.ts': 10,
  'test/e2e/portal-admin-scale.test.ts': 8,
  'test/integration/serve-workers.test.ts': 8,
  'test/integration/doctor.test.ts': 8,
  'test/integration/service-files.test.ts': 7,
  'test/integration/smtp-postfix.test.ts': 7,
  'test/integration/imap-revocation.test.ts': 7,
  'test/integration/dovecot-harness.test.ts': 7,
  'test/integration/demo.test.ts': 6,
};

/** Slow files first (SLOW_SECONDS), then the rest in vitest's own order. */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const seconds = (s: TestSpecification) => SLOW_SECONDS[relative(this.ctx.config.root, s.moduleId)] ?? 0;
    // Array.prototype.sort is stable: files of equal weight keep vitest's order.
    return base.sort((a, b) => seconds(b) - seconds(a));
  }
}
