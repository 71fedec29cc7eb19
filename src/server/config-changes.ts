import type { Config } from '../config/schema.js';

/**
 * What a reload (SIGHUP) cannot change under a running process: the listeners and the backends
 * they log in to, the store, the verify service and the metrics listener, and the few keys the
 * front ends and the portal take once at start. "section.*" is every key of the section, and the
 * section's appearing or going; "section" alone is only that.
 */
const RESTART_ONLY = [
  'store.path',
  'store.secret_key_file',
  'backend.*',
  'imap.*',
  'pop3.*',
  'smtp.*',
  'portal',
  'portal.listen',
  'portal.tls',
  'portal.secure_cookies',
  'portal.trust_proxy',
  'portal.trusted_device_days',
  'dovecot.*',
  'metrics.*',
  'auth.allow_plaintext',
  'auth.revocation_poll_seconds',
] as const;

export interface ConfigChanges {
  /** Keys ("section.key", or a section added or removed) that apply now. */
  live: string[];
  /** Keys that changed but apply only at the next start; `effective` keeps their old values. */
  restart: string[];
  /** The config to run with: the new one, with the restart-only keys as they were. */
  effective: Config;
}

type Sections = Record<string, Record<string, unknown> | undefined>;

function restartOnly(key: string): boolean {
  const section = key.split('.')[0] as string;
  return RESTART_ONLY.some((r) => r === key || r === `${section}.*`);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Changed keys between two configs: "section.key", or "section" when a section came or went. */
export function changedKeys(before: Config, after: Config): string[] {
  const a = before as unknown as Sections;
  const b = after as unknown as Sections;
  const keys: string[] = [];
  for (const section of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[section];
    const y = b[section];
    if (x === undefined || y === undefined) {
      if (x !== y) keys.push(section);
      continue;
    }
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (!same(x[key], y[key])) keys.push(`${section}.${key}`);
    }
  }
  return keys;
}

/** Sorts the changes of a reload into those that apply now and those that wait for a restart. */
export function configChanges(before: Config, after: Config): ConfigChanges {
  const keys = changedKeys(before, after);
  const restart = keys.filter(restartOnly);
  const effective = structuredClone(after) as unknown as Sections;
  const old = before as unknown as Sections;
  for (const key of restart) {
    const [section, name] = key.split('.') as [string, string | undefined];
    if (name === undefined) {
      if (old[section] === undefined) delete effective[section];
      else effective[section] = structuredClone(old[section]);
    } else {
      (effective[section] as Record<string, unknown>)[name] = structuredClone(old[section]?.[name]);
    }
  }
  return { live: keys.filter((k) => !restartOnly(k)), restart, effective: effective as unknown as Config };
}
