import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { secretKeyPath } from '../../config/runtime-config.js';
import { TwostepError } from '../../core/errors.js';
import { decryptSecret, deriveKeys } from '../../crypto/index.js';
import { readKeyFile } from '../../crypto/key-file.js';
import { totpContext } from '../../policy/policy-context.js';
import { openStore } from '../../store/index.js';
import { copySqliteToPostgres } from '../../store/postgres/copy-from-sqlite.js';
import { configOf } from '../context.js';
import { stdout, table } from '../output.js';

/**
 * The key file must be the SQLite store's own: it opens the first account's TOTP key (when one
 * has any), else every copied code would be dead on arrival.
 */
async function checkKeyOpens(sqlitePath: string, key: Buffer, keyPath: string): Promise<void> {
  const store = await openStore(sqlitePath);
  try {
    const withTotp = (await store.accounts.listAll(1_000_000)).find((a) => a.totpSecretEnc !== null);
    if (!withTotp?.totpSecretEnc) return;
    try {
      decryptSecret(deriveKeys(key).encryptionKey, withTotp.totpSecretEnc, totpContext(withTotp.id));
    } catch {
      throw new TwostepError('INVALID_INPUT', `${keyPath}: not the key of ${sqlitePath} (it does not open its TOTP keys); pass --key with the right file`);
    }
  } finally {
    await store.close();
  }
}

export function storeCommand(): Command {
  const store = new Command('store').description('the database: move a SQLite store to PostgreSQL');
  store
    .command('migrate')
    .description('copy a SQLite store (and its key file) into the empty PostgreSQL database of [store] url')
    .requiredOption('--from <file>', 'the SQLite database (e.g. /var/lib/twostep/twostep.db)')
    .option('--key <file>', 'its key file (default: secret.key beside it)')
    .action(async (opts: { from: string; key?: string }, cmd: Command) => {
      const config = configOf(cmd);
      const url = config.store.url;
      if (url === undefined) throw new TwostepError('CONFIG_INVALID', 'store.url: set it to the PostgreSQL database to migrate into');
      if (!existsSync(opts.from)) throw new TwostepError('INVALID_INPUT', `--from ${opts.from}: no such file`);
      const keyPath = opts.key ?? join(dirname(opts.from), 'secret.key');
      const key = readKeyFile(keyPath);
      await checkKeyOpens(opts.from, key, keyPath);
      const target = secretKeyPath(config);
      if (existsSync(target) && !readKeyFile(target).equals(key)) {
        throw new TwostepError('BAD_STATE', `store.secret_key_file ${target}: a different key is there already; the migrated store needs ${keyPath}`);
      }
      const copied = await copySqliteToPostgres(opts.from, url);
      if (!existsSync(target)) copyFileSync(keyPath, target); // keeps 0600 (readKeyFile refused looser)
      for (const l of table(['Table', 'Rows'], Object.entries(copied).map(([t, n]) => [t, String(n)]))) stdout.line(l);
      stdout.line(`Migrated. Every node needs ${target} (this key) and [store] url; the SQLite file is left as it was.`);
    });
  return store;
}
