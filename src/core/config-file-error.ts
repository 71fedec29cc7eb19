import { TwostepError } from './errors.js';

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a parent is not a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** A file system error as a few words and its code: "no such file (ENOENT)". */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!code) return err instanceof Error ? err.message : String(err);
  const text = ERRNO_TEXT[code];
  return text ? `${text} (${code})` : code;
}

/**
 * A problem with a file the config names, as one line with the key and the path, e.g.
 * "tls.cert config/tls/cert.pem: not a PEM certificate". Exit code 2 (CONFIG_INVALID).
 */
export function configFileError(key: string, path: string, problem: string, cause?: unknown): TwostepError {
  return new TwostepError('CONFIG_INVALID', `${key} ${path}: ${problem}`, cause === undefined ? undefined : { cause });
}
