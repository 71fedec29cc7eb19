import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/logger.js';
import { openPolicy } from '../../src/main.js';
import { openStore, type Store } from '../../src/store/index.js';

/**
 * The audit trail and the code hashes are for twostep only (issue 10, point 6): the folder
 * twostep creates for the store is 0700 and twostep.db, -wal and -shm are 0600 whatever the
 * umask and wherever [store] path points; a folder that was there already keeps its mode.
 */

const mode = (p: string) => statSync(p).mode & 0o777;
const files = (db: string) => [db, `${db}-wal`, `${db}-shm`];
const opened: Store[] = [];
let umask: number;

beforeEach(() => {
  umask = process.umask(0o022); // the usual default: files 0644, folders 0755 unless set
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  process.umask(umask);
});

async function open(path: string): Promise<Store> {
  const s = await openStore(path);
  opened.push(s);
  await s.accounts.create('alice', 'allowed', 1); // something in the WAL
  return s;
}

describe('store file modes under umask 022', () => {
  it('folders it creates are 0700 (every level), the database and its -wal and -shm 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twostep-modes-'));
    const db = join(root, 'var', 'twostep', 'twostep.db');
    await open(db);
    expect(mode(join(root, 'var')).toString(8)).toBe('700');
    expect(mode(join(root, 'var', 'twostep')).toString(8)).toBe('700');
    for (const f of files(db)) {
      expect(existsSync(f), f).toBe(true);
      expect(mode(f).toString(8), f).toBe('600');
    }
  });

  it('a folder that exists keeps its mode; the files in it are still 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twostep-modes-'));
    const folder = join(root, 'data');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    const db = join(folder, 'twostep.db');
    await open(db);
    expect(mode(folder).toString(8)).toBe('755');
    for (const f of files(db)) expect(mode(f).toString(8), f).toBe('600');
  });

  it('fixes the modes of an existing database, -wal and -shm made world-readable before', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twostep-modes-'));
    const db = join(root, 'twostep.db');
    // An older twostep (or a copy) left them 0644; the connection keeps -wal and -shm in place.
    const older = new BetterSqlite3(db);
    older.pragma('journal_mode = WAL');
    older.exec('CREATE TABLE leftover (x)');
    for (const f of files(db)) expect(mode(f).toString(8), f).toBe('644');
    try {
      await open(db);
      for (const f of files(db)) expect(mode(f).toString(8), f).toBe('600');
    } finally {
      older.close();
    }
  });

  it('under other umasks too (002, 077, 000)', async () => {
    for (const m of [0o002, 0o077, 0o000]) {
      process.umask(m);
      const root = mkdtempSync(join(tmpdir(), 'twostep-modes-'));
      const db = join(root, 'new', 'twostep.db');
      await open(db);
      expect(mode(join(root, 'new')).toString(8), `umask ${m.toString(8)}`).toBe('700');
      for (const f of files(db)) expect(mode(f).toString(8), `${f} umask ${m.toString(8)}`).toBe('600');
    }
  });

  it('through the composition root (serve and the CLI): the store folder 0700, its key file 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twostep-modes-'));
    const db = join(root, 'data', 'twostep.db');
    const config = configSchema.parse({ store: { path: db }, backend: { master_user: 'm', master_password: 'x' } });
    const opened = await openPolicy(config, silentLogger());
    try {
      await opened.policy.setAdminPolicy('alice', 'allowed');
      expect(mode(join(root, 'data')).toString(8)).toBe('700');
      expect(mode(join(root, 'data', 'secret.key')).toString(8)).toBe('600');
      for (const f of files(db)) expect(mode(f).toString(8), f).toBe('600');
    } finally {
      await opened.close();
    }
  });
});
