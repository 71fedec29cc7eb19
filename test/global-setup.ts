import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { sweepPortHolds } from './helpers/ports.mjs';
import { makeTestCert, type TestCert } from './helpers/tls.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's one test certificate (test/helpers/tls.ts sharedTestCert). */
    testCert: TestCert;
  }
}

/** Set while a run is under way: vitest calls this setup once per project, the run's work is done once. */
const RUN_ROOT = 'TWOSTEP_TEST_RUN_ROOT';
const RUN_CERT = 'TWOSTEP_TEST_RUN_CERT';

/**
 * Every test's temp folder (databases, keys, certificates, Dovecot instances) goes under one
 * root for the run, removed at the end, so a run leaves nothing behind in /tmp even when a test
 * fails before its own cleanup. Workers inherit TMPDIR; os.tmpdir() reads it at each call.
 * The run's test certificate is made here once (one openssl run) and given to every file.
 */
export default function setup(project: TestProject): () => void {
  const running = process.env[RUN_CERT];
  if (running !== undefined) {
    project.provide('testCert', JSON.parse(running) as TestCert);
    return () => {};
  }
  const root = mkdtempSync(join(tmpdir(), 'twostep-tests-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = root;
  const certDir = join(root, 'shared-cert');
  const cert = makeTestCert(certDir);
  // Dovecot and Postfix read it as their own users (the key is 0644 on purpose: a throw-away key).
  chmodSync(root, 0o755);
  chmodSync(certDir, 0o755);
  process.env[RUN_ROOT] = root;
  process.env[RUN_CERT] = JSON.stringify(cert);
  project.provide('testCert', cert);
  return () => {
    delete process.env[RUN_ROOT];
    delete process.env[RUN_CERT];
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(root, { recursive: true, force: true });
    sweepPortHolds(); // the workers' port holds (test/helpers/ports.mjs): they end without their exit handlers
  };
}
