import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type OpenStoreOptions, type Store, type StoreLocation } from '../../src/store/index.js';
import { startPostgres, type PostgresInstance } from './postgres-core.mjs';

/**
 * The store's back ends for a suite about the interface (describe.each(STORE_BACKENDS)): each
 * test gets a fresh database (a SQLite file, or a new PostgreSQL database on one PostgreSQL that
 * the test file starts on first use). Call stopStoreBackends() in afterAll.
 */
export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty database. */
  location(): Promise<StoreLocation>;
}

let postgres: Promise<PostgresInstance> | undefined;

/** The test file's PostgreSQL (started once). */
export function sharedPostgres(): Promise<PostgresInstance> {
  postgres ??= startPostgres();
  return postgres;
}

export const STORE_BACKENDS: StoreBackend[] = [
  { name: 'sqlite', location: async () => join(mkdtempSync(join(tmpdir(), 'twostep-store-')), 'data', 'twostep.db') },
  { name: 'postgres', location: async () => ({ url: await (await sharedPostgres()).createDatabase() }) },
];

export async function stopStoreBackends(): Promise<void> {
  const p = postgres;
  postgres = undefined;
  if (p) await (await p).stop();
}

/** Opens stores and closes them all in closeAll() (afterEach). */
export class OpenedStores {
  readonly #stores: Store[] = [];

  async open(where: StoreLocation, o?: OpenStoreOptions): Promise<Store> {
    const s = await openStore(where, o);
    this.#stores.push(s);
    return s;
  }

  async closeAll(): Promise<void> {
    for (const s of this.#stores.splice(0)) await s.close();
  }
}
