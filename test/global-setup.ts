import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test's temp folder (databases, keys, certificates, Dovecot instances) goes under one
 * root for the run, removed at the end, so a run leaves nothing behind in /tmp even when a test
 * fails before its own cleanup. Workers inherit TMPDIR; os.tmpdir() reads it at each call.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'twostep-tests-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(root, { recursive: true, force: true });
  };
}
