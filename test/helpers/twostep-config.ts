import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import { runCli } from './twostep-process.js';

export const MASTER = { user: 'proxymaster', password: 'master-secret-pw' } as const;

export interface TestConfigOptions {
  dir: string;
  cert: { cert: string; key: string };
  backendImapPort: number;
  /** "" turns a listener off. */
  listen: string;
  listenTls: string;
  /** Extra [auth] keys; the throttles default to high values so tests do not trip them. */
  auth?: Record<string, string | number | boolean>;
  /** How twostep talks to Dovecot: "none" (default) | "starttls" | "tls", and the CA to verify it with. */
  backendTls?: 'none' | 'starttls' | 'tls';
  backendCa?: string;
  /** [imap] backend_spares: backend connections opened ahead of logins (absent: the default, 0). */
  backendSpares?: number;
  /** Adds a [pop3] section (POP3 front end on); absent = POP3 off, as in a config without [pop3]. */
  pop3?: { listen: string; listenTls: string; backendPort: number; backendTls?: 'none' | 'starttls' | 'tls' };
  /** Keys of a [portal] section (the web portal); absent = no portal. */
  portal?: Record<string, string | number | boolean>;
  /** An [smtp] section (SMTP submission in front of Postfix); absent = SMTP off. */
  smtp?: {
    listen: string;
    listenTls: string;
    backendPort: number;
    backendTls?: 'none' | 'starttls' | 'tls';
    backendLogin: 'master' | 'xclient';
  };
  /** Keys of a [dovecot] section (the verify service for Dovecot's Lua passdb); absent = off. */
  dovecot?: Record<string, string | string[]>;
  /** File name of the config in dir (several configs may share one store); default twostep.toml. */
  fileName?: string;
  /** [store] url (PostgreSQL) with its secret_key_file, instead of the SQLite file in dir. */
  store?: { url: string; secretKeyFile: string };
  /** [server] proxy_protocol_from. */
  proxyProtocolFrom?: string[];
  /**
   * [server] workers. Default 1: the suite's servers are the single process unless a test asks
   * for workers (test/integration/serve-workers.test.ts); an install's default is one per core.
   */
  workers?: number;
  /** More [server] keys, e.g. { shutdown_grace_seconds: 8 }. */
  server?: Record<string, number>;
  /** More sections, e.g. { clients: { host: 'localhost' }, notify: {...} }: values as JSON (strings, numbers, arrays). */
  sections?: Record<string, Record<string, unknown>>;
}

/** Writes twostep.toml (and the master password file) for an instance in front of a test Dovecot. */
export function writeTestConfig(o: TestConfigOptions): string {
  const masterFile = join(o.dir, 'master-password');
  writeFileSync(masterFile, `${MASTER.password}\n`, { mode: 0o600 });
  // A short failure delay: the refusal path still waits, the suite stays fast.
  const auth = { allow_plaintext: false, ip_failures: 1000, user_failures: 1000, failure_delay_ms: 300, ...o.auth };
  const path = join(o.dir, o.fileName ?? 'twostep.toml');
  const smtp = o.smtp
    ? [
        '[smtp]',
        `listen = ${JSON.stringify(o.smtp.listen)}`,
        `listen_tls = ${JSON.stringify(o.smtp.listenTls)}`,
        `backend = "127.0.0.1:${o.smtp.backendPort}"`,
        `backend_tls = ${JSON.stringify(o.smtp.backendTls ?? 'none')}`,
        `backend_login = ${JSON.stringify(o.smtp.backendLogin)}`,
      ]
    : [];
  writeFileSync(
    path,
    [
      '[store]',
      `path = ${JSON.stringify(join(o.dir, 'data', 'twostep.db'))}`,
      ...(o.store ? [`url = ${JSON.stringify(o.store.url)}`, `secret_key_file = ${JSON.stringify(o.store.secretKeyFile)}`] : []),
      '[server]',
      `workers = ${o.workers ?? 1}`,
      ...(o.proxyProtocolFrom ? [`proxy_protocol_from = ${JSON.stringify(o.proxyProtocolFrom)}`] : []),
      ...Object.entries(o.server ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
      '[tls]',
      `cert = ${JSON.stringify(o.cert.cert)}`,
      `key = ${JSON.stringify(o.cert.key)}`,
      '[backend]',
      `master_user = ${JSON.stringify(MASTER.user)}`,
      `master_password_file = ${JSON.stringify(masterFile)}`,
      ...(o.backendCa ? [`ca = ${JSON.stringify(o.backendCa)}`] : []),
      '[imap]',
      `listen = ${JSON.stringify(o.listen)}`,
      `listen_tls = ${JSON.stringify(o.listenTls)}`,
      `backend = "127.0.0.1:${o.backendImapPort}"`,
      `backend_tls = ${JSON.stringify(o.backendTls ?? 'none')}`,
      ...(o.backendSpares !== undefined ? [`backend_spares = ${o.backendSpares}`] : []),
      ...(o.pop3
        ? [
            '[pop3]',
            `listen = ${JSON.stringify(o.pop3.listen)}`,
            `listen_tls = ${JSON.stringify(o.pop3.listenTls)}`,
            `backend = "127.0.0.1:${o.pop3.backendPort}"`,
            `backend_tls = ${JSON.stringify(o.pop3.backendTls ?? 'none')}`,
          ]
        : []),
      ...smtp,
      '[auth]',
      ...Object.entries(auth).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
      ...(o.portal ? ['[portal]', ...Object.entries(o.portal).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)] : []),
      ...(o.dovecot ? ['[dovecot]', ...Object.entries(o.dovecot).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)] : []),
      ...Object.entries(o.sections ?? {}).flatMap(([name, keys]) => [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)]),
      '',
    ].join('\n'),
  );
  return path;
}

/** The admin allows the user, who enrols an authenticator and confirms it with a current code (via the CLI). */
export async function enableTwoStep(configPath: string, user: string): Promise<{ key: string }> {
  const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);
  const allow = await cli('user', 'allow', user);
  if (allow.code !== 0) throw new Error(`user allow ${user}: ${allow.stderr}`);
  const enrol = await cli('totp', 'enroll', user);
  const key = /^key: ([A-Z2-7]+)$/m.exec(enrol.stdout)?.[1];
  if (!key || !/^uri: otpauth:\/\/totp\/.+secret=/m.test(enrol.stdout)) throw new Error(`totp enroll ${user}: ${enrol.stdout}${enrol.stderr}`);
  const confirm = await cli('totp', 'confirm', user, authenticator.generate(key));
  if (confirm.code !== 0) throw new Error(`totp confirm ${user}: ${confirm.stderr}`);
  return { key };
}

/** `twostep appcode add`: returns the code, which the CLI prints alone on its last line. */
export async function addAppCode(configPath: string, user: string, name: string): Promise<string> {
  const add = await runCli(['--config', configPath, 'appcode', 'add', user, name]);
  if (add.code !== 0) throw new Error(`appcode add ${user} ${name}: ${add.stderr}`);
  return add.stdout.trimEnd().split('\n').pop() as string;
}
