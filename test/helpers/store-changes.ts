import { dirname } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { AppCodeInfo } from '../../src/policy/policy-results.js';
import { whenChanged } from './daemon-tools.mjs';
import { runCli } from './twostep-process.js';

/** Longest a test waits for serve's write-behind queue (it writes within ~25 ms; a busy machine is slower). */
const STORE_WAIT_MS = 30_000;

/**
 * `read()` again each time the database of `configPath` changes (its folder is watched: SQLite
 * writes the -wal file), until `ready` holds; resolves with the last value read, also at the
 * deadline, so the caller's assertion says what was there. Serve writes Last Used and the audit
 * trail a moment after the login (its write-behind queue): a test reading them waits this way
 * instead of sleeping, or hoping that starting the CLI takes long enough.
 */
export function storeWhen<T>(configPath: string, read: () => Promise<T>, ready: (value: T) => boolean): Promise<T> {
  return whenChanged(dirname(loadConfig(configPath).store.path), read, ready, STORE_WAIT_MS);
}

/** A row of `twostep appcode list --json`: the policy's AppCodeInfo. */
export type CodeRow = AppCodeInfo;

/** `twostep appcode list USER --json` once the row of `name` satisfies `ready` (see storeWhen). */
export async function codeRowWhen(configPath: string, user: string, name: string, ready: (row: CodeRow) => boolean): Promise<CodeRow | undefined> {
  const read = async () => {
    const r = await runCli(['--config', configPath, 'appcode', 'list', user, '--json']);
    if (r.code !== 0) throw new Error(`appcode list ${user}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as CodeRow[]).find((c) => c.name === name);
  };
  return storeWhen(configPath, read, (row) => row !== undefined && ready(row));
}

export interface AuditRow {
  at: string;
  user: string | null;
  event: string;
  protocol: string | null;
  ip: string | null;
  detail?: Record<string, unknown>;
}

/** `twostep audit --json` with `args` (e.g. ['--user', 'alice']) once `ready` holds (see storeWhen). */
export async function auditWhen(configPath: string, args: string[], ready: (events: AuditRow[]) => boolean): Promise<AuditRow[]> {
  const read = async () => {
    const r = await runCli(['--config', configPath, 'audit', ...args, '--json']);
    if (r.code !== 0) throw new Error(`audit: ${r.stderr}`);
    return JSON.parse(r.stdout) as AuditRow[];
  };
  return storeWhen(configPath, read, ready);
}
