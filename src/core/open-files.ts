import { readdirSync, readFileSync } from 'node:fs';

/**
 * The process's open-file limit (RLIMIT_NOFILE, soft: what accept() and connect() run into), from
 * /proc/self/limits; undefined where there is no /proc or the limit is "unlimited".
 */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** Files open now (/proc/self/fd), or undefined without /proc. */
export function openFileCount(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** EMFILE (the process has no file left) or ENFILE (the system has none). */
export function isOutOfFiles(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}
