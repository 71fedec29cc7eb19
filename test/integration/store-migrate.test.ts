import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres-core.mjs';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { makeTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * `twostep store migrate`: a SQLite store, with its key file, into an empty PostgreSQL database;
 * then a node on PostgreSQL signs the old application codes in.
 */
let pgd: PostgresInstance;
let dovecot: DovecotInstance;
let serve: ServeProcess | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-migrate-'));
  pgd = await startPostgres();
  dovecot = await startDovecot({ users: [{ user: 'alice', password: 'alice-main-pw' }, { user: 'bob', password: 'bob-main-pw' }], master: MASTER });
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  await dovecot?.stop();
  await pgd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function imapLogin(port: number, user: string, secret: string): Promise<string> {
  const c = await RawImapClient.connect({ port });
  try {
    await c.greeting();
    return await c.command(`LOGIN ${user} ${secret}`);
  } finally {
    c.close();
  }
}

describe('twostep store migrate', () => {
  it('moves a SQLite store and its key to PostgreSQL; the old codes sign in on a PostgreSQL node', async () => {
    const cert = makeTestCert(dir);
    const port = await freePort();
    const common = { dir, cert, backendImapPort: dovecot.imapPort, listen: `127.0.0.1:${port}`, listenTls: '', auth: { allow_plaintext: true } };
    const lite = writeTestConfig({ ...common, fileName: 'sqlite.toml' });
    await enableTwoStep(lite, 'alice');
    const code = await addAppCode(lite, 'alice', 'Phone');
    await addAppCode(lite, 'alice', 'Laptop');
    expect((await runCli(['--config', lite, 'appcode', 'revoke', 'alice', 'Laptop'])).code).toBe(0);
    expect((await runCli(['--config', lite, 'user', 'allow', 'bob'])).code).toBe(0);

    mkdirSync(join(dir, 'pg'), { mode: 0o700 });
    const pgKey = join(dir, 'pg', 'secret.key');
    const url = await pgd.createDatabase();
    const pgConfig = writeTestConfig({ ...common, fileName: 'pg.toml', store: { url, secretKeyFile: pgKey } });
    const sqlitePath = join(dir, 'data', 'twostep.db');

    // The wrong key file is refused before anything is written.
    const wrongKey = join(dir, 'wrong.key');
    writeFileSync(wrongKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const refused = await runCli(['--config', pgConfig, 'store', 'migrate', '--from', sqlitePath, '--key', wrongKey]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`twostep: ${wrongKey}: not the key of ${sqlitePath} (it does not open its TOTP keys); pass --key with the right file\n`);

    const r = await runCli(['--config', pgConfig, 'store', 'migrate', '--from', sqlitePath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^accounts\s+2$/m);
    expect(r.stdout).toMatch(/^app_codes\s+2$/m);
    expect(r.stdout).toMatch(/^one_time_codes\s+10$/m);
    expect(readFileSync(pgKey)).toEqual(readFileSync(join(dir, 'data', 'secret.key')));
    expect(statSync(pgKey).mode & 0o077).toBe(0);

    const again = await runCli(['--config', pgConfig, 'store', 'migrate', '--from', sqlitePath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/table accounts already holds rows; migrate into an empty database/);

    serve = await startServe(pgConfig, 30_000);
    expect(await imapLogin(port, 'alice', code)).toMatch(/^t1 OK/m);
    expect(await imapLogin(port, 'alice', 'alice-main-pw')).toMatch(/^t1 NO/m);
    const show = JSON.parse((await runCli(['--config', pgConfig, 'user', 'show', 'alice', '--json'])).stdout) as Record<string, unknown>;
    expect(show).toMatchObject({ username: 'alice', twofaState: 'on', appCodes: 1 });
    // New rows get ids past the copied ones (the sequences moved on).
    expect((await runCli(['--config', pgConfig, 'appcode', 'add', 'alice', 'Watch'])).code).toBe(0);
  }, 120_000); // a dozen CLI runs, each a node process
});
