import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFileError, errnoText } from '../core/config-file-error.js';
import { Secret } from '../core/secret.js';
import type { HostPort } from '../core/host-port.js';
import type { BackendTls, Config } from './schema.js';

/** Where the store's encryption key lives: [store] secret_key_file, else "secret.key" in the database's folder. */
export function secretKeyPath(config: Config): string {
  return config.store.secret_key_file ?? join(dirname(config.store.path), 'secret.key');
}

/** Where the store is: the PostgreSQL URL when [store] url is set, else the SQLite file. */
export function storeLocation(config: Config): string | { url: string } {
  return config.store.url !== undefined ? { url: config.store.url } : config.store.path;
}

/** The master password, from the TOML or from master_password_file (first line, trailing newline dropped). */
export function readMasterPassword(config: Config): Secret {
  const b = config.backend;
  if (b.master_password !== undefined) return new Secret(b.master_password);
  return readPasswordFile('backend.master_password_file', b.master_password_file as string);
}

/** The password on the first line of the file a config key names (trailing newline dropped); empty: a config error. */
export function readPasswordFile(key: string, file: string): Secret {
  const text = readFileOrConfigError(key, file).toString('utf8');
  const first = text.split(/\r?\n/)[0] ?? '';
  if (!first) throw configFileError(key, file, 'empty (the first line is the password)');
  return new Secret(first);
}

/** The file a config key names; unreadable: one line with the key, the path and why (exit 2). */
export function readFileOrConfigError(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw configFileError(key, path, `cannot read: ${errnoText(err)}`, err);
  }
}

export interface BackendTarget extends HostPort {
  tls: BackendTls;
  ca?: Buffer;
  servername?: string;
}

/** A protocol's backend (its `backend` and `backend_tls` keys) with the shared [backend] ca and servername. */
export function backendTarget(config: Config, address: HostPort, tls: BackendTls): BackendTarget {
  const target: BackendTarget = { ...address, tls };
  if (config.backend.ca) target.ca = readFileOrConfigError('backend.ca', config.backend.ca);
  if (config.backend.servername) target.servername = config.backend.servername;
  return target;
}
