import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { clientSettings } from '../../config/client-settings.js';
import { parseConfig } from '../../config/load-config.js';
import { dnsRecords } from '../../doctor/dns-records.js';
import { readMasterPassword, secretKeyPath } from '../../config/runtime-config.js';
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
  mailHost?: string;
  domain?: string[];
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

/** config/dovecot/ of this installation, for the printed recipe. */
const DOVECOT_SNIPPETS = fileURLToPath(new URL('../../../config/dovecot/', import.meta.url));

/**
 * Dovecot's passwd-file line for the master user: {SHA512-CRYPT} of the password, hashed by
 * `openssl passwd -6 -stdin` (the password goes in on stdin, never on a command line). Null
 * when openssl cannot be run.
 */
function masterUsersLine(user: string, password: string): string | null {
  try {
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
    return /^\$6\$[^\s:]+$/.test(hash) ? `${user}:{SHA512-CRYPT}${hash}` : null;
  } catch {
    return null;
  }
}

export function initCommand(): Command {
  return new Command('init')
    .description("write a starting config, a fresh store key, a master password file with Dovecot's master-users line for it, and a self-signed certificate")
    .option('--force', 'overwrite an existing config and master password file')
    .option('--data-dir <dir>', 'folder for the database and its key', 'data')
    .option('--imap-backend <host:port>', 'the Dovecot IMAP service', '127.0.0.1:143')
    .option('--master-user <name>', 'the Dovecot master user twostep logs in as', 'proxymaster')
    .option('--allow-plaintext', 'accept logins before TLS (loopback labs only)')
    .option('--no-cert', 'do not create a self-signed certificate')
    .option('--mail-host <name>', 'public host name mail apps connect to: writes [clients] and prints its DNS records')
    .option('--domain <domain>', 'a mail domain served (repeat for several)', (v: string, all: string[] = []) => [...all, v])
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
      const masterUsers = join(confDir, 'master-users');
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
        ...(opts.mailHost
          ? ['[clients]', `host = ${tomlString(opts.mailHost)}`, `domains = [${(opts.domain ?? []).map(tomlString).join(', ')}]`, '']
          : []),
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
      // Dovecot's side of the master user, from the password file as it now is (kept or new).
      const line = masterUsersLine(opts.masterUser, readMasterPassword(config).reveal());
      if (line) {
        const header = [
          `# Dovecot's master-users file for twostep (written by "twostep init" from ${masterFile}).`,
          '# Install it as root on the Dovecot host (it replaces the file, so no second line):',
          `#   install -o root -g dovecot -m 0640 ${masterUsers} /etc/dovecot/master-users`,
        ];
        writeNew(masterUsers, `${header.join('\n')}\n${line}\n`, 0o640, true);
        chmodSync(masterUsers, 0o640);
        stdout.line(`wrote ${masterUsers} (Dovecot's master-users line: ${opts.masterUser} and a SHA512-CRYPT hash)`);
      }
      stdout.line('');
      stdout.line("Next, as root on the Dovecot host: the master user, and trust in twostep's address (config/dovecot/README.md):");
      if (line) stdout.line(`  install -o root -g dovecot -m 0640 ${masterUsers} /etc/dovecot/master-users`);
      else stdout.line(`  (openssl was not found: make ${masterUsers} as config/dovecot/README.md shows, then install it the same way)`);
      stdout.line(`  install -m 0644 ${join(DOVECOT_SNIPPETS, '10-twostep-master.conf')} ${join(DOVECOT_SNIPPETS, '10-twostep-trusted.conf')} /etc/dovecot/conf.d/`);
      stdout.line('  doveadm reload');
      stdout.line(`then: twostep check --config ${configPath}   and   twostep serve --config ${configPath}`);
      // What mail apps need to find the services by themselves: from [clients], or an example of it.
      const clients = clientSettings(config) ?? clientSettings(parseConfig(`${text}[clients]\nhost = "mail.example.com"\n`, configPath));
      stdout.line('');
      stdout.line(config.clients ? 'DNS records to publish, so that mail apps set themselves up:' : 'DNS records to publish once [clients] names your mail host (example names; or run init with --mail-host and --domain):');
      if (clients) for (const l of dnsRecords(clients)) stdout.line(`  ${l}`);
    });
}
