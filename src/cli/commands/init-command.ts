import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { parseConfig } from '../../config/load-config.js';
import { secretKeyPath } from '../../config/runtime-config.js';
import { TwostepError } from '../../core/errors.js';
import { loadOrCreateKeyFile } from '../../crypto/index.js';
import { configPathOf } from '../context.js';
import { stdout } from '../output.js';

interface InitOptions {
  force?: boolean;
  dataDir: string;
  imapBackend: string;
  masterUser: string;
  allowPlaintext?: boolean;
  cert: boolean;
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

function writeNew(path: string, text: string, mode: number, force: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode, flag: force ? 'w' : 'wx' });
}

/** A self-signed certificate for first tests; replace it with a real one before clients see it. */
function makeSelfSignedCert(certPath: string, keyPath: string): boolean {
  mkdirSync(dirname(certPath), { recursive: true });
  mkdirSync(dirname(keyPath), { recursive: true });
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '825', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyPath, '-out', certPath],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

export function initCommand(): Command {
  return new Command('init')
    .description('write a starting config, a fresh store key, a master password file and a self-signed certificate')
    .option('--force', 'overwrite an existing config and master password file')
    .option('--data-dir <dir>', 'folder for the database and its key', 'data')
    .option('--imap-backend <host:port>', 'the Dovecot IMAP service', '127.0.0.1:143')
    .option('--master-user <name>', 'the Dovecot master user twostep logs in as', 'proxymaster')
    .option('--allow-plaintext', 'accept logins before TLS (loopback labs only)')
    .option('--no-cert', 'do not create a self-signed certificate')
    .action((opts: InitOptions, cmd: Command) => {
      const configPath = configPathOf(cmd);
      if (existsSync(configPath) && !opts.force) {
        throw new TwostepError('BAD_STATE', `${configPath} already exists (use --force to overwrite)`);
      }
      const confDir = dirname(configPath);
      const storePath = join(opts.dataDir, 'twostep.db');
      const certPath = join(confDir, 'tls', 'cert.pem');
      const keyPath = join(confDir, 'tls', 'key.pem');
      const masterFile = join(confDir, 'master-password');
      const text = [
        '# twostep configuration (written by "twostep init"); every key: config/twostep.example.toml',
        '[store]',
        `path = ${tomlString(storePath)}`,
        '',
        '[tls]',
        `cert = ${tomlString(certPath)}`,
        `key  = ${tomlString(keyPath)}`,
        '',
        '[backend]',
        `master_user = ${tomlString(opts.masterUser)}`,
        `master_password_file = ${tomlString(masterFile)}`,
        '',
        '[imap]',
        'listen     = "127.0.0.1:1143"',
        'listen_tls = "127.0.0.1:1993"',
        `backend    = ${tomlString(opts.imapBackend)}`,
        'backend_tls = "none"',
        '',
        '[auth]',
        `allow_plaintext = ${opts.allowPlaintext ? 'true' : 'false'}`,
        '',
      ].join('\n');
      const config = parseConfig(text, configPath); // what we write must load
      writeNew(configPath, text, 0o640, !!opts.force);
      stdout.line(`wrote ${configPath}`);

      if (!existsSync(masterFile) || opts.force) {
        writeNew(masterFile, `${randomBytes(24).toString('base64url')}\n`, 0o600, true);
        stdout.line(`wrote ${masterFile} (a fresh master password, mode 0600)`);
      }
      const keyFile = secretKeyPath(config);
      const existed = existsSync(keyFile);
      loadOrCreateKeyFile(keyFile);
      stdout.line(existed ? `kept ${keyFile} (store key)` : `wrote ${keyFile} (a fresh store key, mode 0600)`);

      if (opts.cert && !existsSync(certPath)) {
        if (makeSelfSignedCert(certPath, keyPath)) stdout.line(`wrote ${certPath} and ${keyPath} (self-signed, CN=localhost)`);
        else stdout.line(`could not run openssl: put a certificate at ${certPath} and its key at ${keyPath}`);
      }
      stdout.line('');
      stdout.line('Next: give Dovecot the master user and trust twostep\'s address (config/dovecot/README.md):');
      stdout.line(
        `  echo "${opts.masterUser}:$(doveadm pw -s SHA512-CRYPT -p "$(cat ${masterFile})")" >> /etc/dovecot/master-users`,
      );
      stdout.line(`then: twostep serve --config ${configPath}`);
    });
}
