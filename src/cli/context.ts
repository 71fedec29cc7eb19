import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { silentLogger } from '../core/logger.js';
import { openPolicy, type OpenedPolicy } from '../main.js';
import { warn } from './output.js';

/** The --config option as the root program parsed it. */
export function configPathOf(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ config?: string }>();
  return resolveConfigPath(opts.config);
}

export function configOf(cmd: Command): Config {
  return loadConfig(configPathOf(cmd));
}

/**
 * Open config → store → policy for one admin command, run it, and always close the database.
 * A revoke ends the user's Dovecot sessions ([dovecot] kick_command) from this process: the
 * command waits for that, and a failure is a warning on stderr (the revoke itself holds).
 */
export async function withPolicy<T>(cmd: Command, fn: (opened: OpenedPolicy) => Promise<T> | T): Promise<T> {
  const config = configOf(cmd);
  const opened = await openPolicy(config, silentLogger());
  try {
    return await fn(opened);
  } finally {
    for (const failure of await opened.drain()) warn(`Dovecot sessions not ended: ${failure}`);
    await opened.close();
  }
}
