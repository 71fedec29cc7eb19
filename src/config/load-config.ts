import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { ZodError } from 'zod';
import { TwostepError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/twostep.toml';

/** --config FILE, else $TWOSTEP_CONFIG, else config/twostep.toml. */
export function resolveConfigPath(option?: string): string {
  if (option) return option;
  const env = process.env.TWOSTEP_CONFIG;
  if (env) return env;
  return DEFAULT_CONFIG_PATH;
}

/** Turn the first validation problem into one line that names the key, e.g. `imap.listen: must be "host:port"`. */
export function describeZodError(err: ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid configuration';
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
    return `${keys.map((k) => prefix + k).join(', ')}: unknown key`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return `${key}: required key is missing`;
  }
  return `${key}: ${issue.message}`;
}

/** Parse and validate TOML text; throws TwostepError('CONFIG_INVALID') with one line naming the key. */
export function parseConfig(text: string, source = 'config'): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : '';
    const first = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new TwostepError('CONFIG_INVALID', `${source}: not valid TOML${where}: ${first}`, { cause: err });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new TwostepError('CONFIG_INVALID', `${source}: ${describeZodError(result.error)}`);
  }
  return result.data;
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new TwostepError(
        'CONFIG_NOT_FOUND',
        `${path}: no such config file (run "twostep init" or pass --config FILE)`,
      );
    }
    throw new TwostepError('CONFIG_INVALID', `${path}: cannot read: ${code ?? String(err)}`, { cause: err });
  }
  return parseConfig(text, path);
}
