import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { postfixSnippet, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { freePort } from '../helpers/ports.js';
import { makeTestCert, sharedTestCert, type TestCert } from '../helpers/tls.js';
import { MASTER, writeTestConfig, type TestConfigOptions } from '../helpers/twostep-config.js';
import { BIN, runCli, runCliProcess } from '../helpers/twostep-process.js';

/**
 * serve's start-up checks and `twostep check` against a real Dovecot: no `ready` before the
 * master login works, one line naming the backend, the key and what failed; file problems name
 * the key and the path; a port in use names the key (exit 2); a backend that starts late is waited for.
 */

let dovecot: DovecotInstance;
let dir: string;
let cert: TestCert;
let n = 0;

/** A fresh folder and config in front of the test Dovecot; `backend` adds [backend] keys. */
async function config(o: Partial<TestConfigOptions> & { backend?: Record<string, string | number> } = {}): Promise<string> {
  const sub = join(dir, `c${++n}`);
  mkdirSync(sub);
  const { backend, ...rest } = o;
  const path = writeTestConfig({
    dir: sub,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${await freePort()}`,
    listenTls: '',
    ...rest,
  });
  if (backend) {
    const keys = Object.entries(backend).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    writeFileSync(path, readFileSync(path, 'utf8').replace('[backend]\n', `[backend]\n${keys.join('\n')}\n`));
  }
  return path;
}

const masterFileOf = (configPath: string) => join(configPath, '..', 'master-password');

/** stderr's lines (serve's JSON log lines and the CLI's final line). */
const lines = (s: string) => s.trim().split('\n').filter(Boolean);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-startup-'));
  cert = sharedTestCert();
  dovecot = await startDovecot({ users: [{ user: 'alice', password: 'alice-main-pw' }], master: MASTER });
}, 60_000);

afterAll(async () => {
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serve at start', () => {
  it('refuses to start with a wrong master password: exit 2, one clear line, no ready', async () => {
    const path = await config();
    writeFileSync(masterFileOf(path), 'not-the-master-password\n', { mode: 0o600 });
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/"event":"ready"/);
    expect(r.stderr).not.toMatch(/"event":"backend-wait"/); // a refused master login is not waited on
    const last = lines(r.stderr).at(-1);
    expect(last).toBe(
      `twostep: imap.backend 127.0.0.1:${dovecot.imapPort}: master login refused: check backend.master_user / ` +
        "backend.master_password_file and Dovecot's master passdb (config/dovecot/README.md)",
    );
    expect(r.stderr).not.toContain('not-the-master-password');
  });

  it.each([
    ['a garbage certificate', 'cert', 'this is not a certificate\n', 'tls.cert', 'not a PEM certificate'],
    ['a garbage key', 'key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'tls.key', 'not a PEM private key'],
  ] as const)('names the key and the path for %s (exit 2)', async (_name, which, text, key, problem) => {
    const sub = join(dir, `bad-${which}`);
    mkdirSync(sub);
    const own = makeTestCert(sub);
    writeFileSync(own[which], text);
    const path = await config({ cert: own });
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`twostep: ${key} ${own[which]}: ${problem}\n`);
  });

  it('names both files when the key is not the certificate\'s', async () => {
    const sub = join(dir, 'mismatch');
    mkdirSync(sub);
    const other = makeTestCert(sub);
    const path = await config({ cert: { cert: cert.cert, key: other.key } });
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`twostep: tls.key ${other.key}: not the key of the certificate in tls.cert ${cert.cert}\n`);
  });

  it('names store.path and the path when the database file is not a database (exit 2)', async () => {
    const path = await config();
    const db = join(path, '..', 'data', 'twostep.db');
    mkdirSync(join(db, '..'), { recursive: true });
    writeFileSync(db, 'not a database, just text\n'.repeat(200));
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`twostep: store.path ${db}: cannot open the database: file is not a database (SQLITE_NOTADB)\n`);
  });

  it('names the key and the address of a port in use, exit 2', async () => {
    const taken = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const path = await config({ listen: `127.0.0.1:${await freePort()}`, listenTls: `127.0.0.1:${port}` });
      const r = await runCliProcess(['--config', path, 'serve']);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/"event":"ready"/);
      expect(lines(r.stderr).at(-1)).toBe(`twostep: imap.listen_tls 127.0.0.1:${port}: address already in use`);
    } finally {
      taken.close();
    }
  });

  it('waits for a backend that comes up late, logging each try, then is ready', async () => {
    const port = await freePort();
    const path = await config({ backendImapPort: port, backend: { startup_wait_seconds: 60 } });
    const child = spawn(process.execPath, [BIN, '--config', path, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const look = () => {
          if (re.test(log)) {
            child.stderr.off('data', look);
            resolve();
          }
        };
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          look();
        });
        void exited.then((code) => reject(new Error(`serve exited (${code}) before ${re}:\n${log}`)));
      });
    // Dovecot "starts late": a forwarder to it appears on the configured port after the first try failed.
    const forwarder = net.createServer((c) => {
      const up = net.connect(dovecot.imapPort, '127.0.0.1');
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    try {
      await seen(/"event":"backend-wait"/);
      expect(log).not.toMatch(/"event":"ready"/);
      expect(log).toMatch(new RegExp(`imap\\.backend 127\\.0\\.0\\.1:${port}: connection refused`));
      await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
      await seen(/"event":"ready"/);
      expect(log).toMatch(/"event":"backend-checked","check":"imap.backend"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
      forwarder.close();
    }
  });

  it('gives up on a backend still down after backend.startup_wait_seconds: exit 1', async () => {
    const port = await freePort();
    const path = await config({ backendImapPort: port, backend: { startup_wait_seconds: 3 } });
    const r = await runCliProcess(['--config', path, 'serve']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/"event":"ready"/);
    expect(r.stderr).toMatch(/"event":"backend-wait"/);
    expect(lines(r.stderr).at(-1)).toBe(
      `twostep: imap.backend 127.0.0.1:${port}: connection refused (is it running, and listening on that address?) ` +
        '(still after 3 s: backend.startup_wait_seconds)',
    );
  });
});

describe('twostep check', () => {
  it('lists what it checked and exits 0', async () => {
    const path = await config({ pop3: { listen: '', listenTls: '', backendPort: dovecot.pop3Port } });
    const r = await runCli(['--config', path, 'check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe(`ok    config ${path}`);
    const until = new Date(new X509Certificate(readFileSync(cert.cert)).validTo).toISOString().slice(0, 10);
    expect(out).toContain(`ok    tls.cert ${cert.cert}: CN=localhost, valid until ${until}`);
    expect(out).toContain(`ok    imap.backend 127.0.0.1:${dovecot.imapPort}: master login as ${MASTER.user} works`);
    expect(out).toContain(`ok    pop3.backend 127.0.0.1:${dovecot.pop3Port}: greets`);
    expect(out.some((l) => /^ok {4}store\.path .*: not there yet, serve creates it$/.test(l))).toBe(true);
    expect(out.every((l) => /^(ok|warn) /.test(l))).toBe(true);
  });

  it('logs in as backend.check_user when set, and says when the backend does not know it', async () => {
    const good = await runCli(['--config', await config({ backend: { check_user: 'alice' } }), 'check']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(`master login as ${MASTER.user} works (logged in as alice)`);
    const typo = await runCli(['--config', await config({ backend: { check_user: 'alcie' } }), 'check']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(`twostep: imap.backend 127.0.0.1:${dovecot.imapPort}: backend.check_user alcie: the backend knows no such user\n`);
  });

  it('stops at the first failure with the same line as serve', async () => {
    const path = await config();
    writeFileSync(masterFileOf(path), 'wrong\n', { mode: 0o600 });
    const r = await runCli(['--config', path, 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^twostep: imap\\.backend 127\\.0\\.0\\.1:${dovecot.imapPort}: master login refused: check backend\\.master_user / backend\\.master_password_file`));
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stdout).toMatch(/^ok {4}tls\.key /m); // what passed before the failure is listed
    expect(r.stdout).not.toMatch(/imap\.backend/);

    const down = await freePort();
    const gone = await runCli(['--config', await config({ backendImapPort: down }), 'check']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`twostep: imap.backend 127.0.0.1:${down}: connection refused (is it running, and listening on that address?)\n`);

    const noPem = await config();
    writeFileSync(masterFileOf(noPem), '', { mode: 0o600 });
    const empty = await runCli(['--config', noPem, 'check']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(`twostep: backend.master_password_file ${masterFileOf(noPem)}: empty (the first line is the password)\n`);
  });

  it('reports a backend whose certificate does not verify as a setting (exit 2)', async () => {
    const sub = join(dir, 'tls-backend');
    mkdirSync(sub);
    const backendCert = makeTestCert(sub);
    const tlsDovecot = await startDovecot({ users: [{ user: 'alice', password: 'alice-main-pw' }], master: MASTER, tls: backendCert });
    try {
      const path = await config({ backendImapPort: tlsDovecot.imapsPort as number, backendTls: 'tls', backendCa: cert.cert });
      const r = await runCli(['--config', path, 'check']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`^twostep: imap\\.backend 127\\.0\\.0\\.1:${tlsDovecot.imapsPort}: TLS: .+: check imap\\.backend_tls and backend\\.ca / backend\\.servername\\n$`),
      );
    } finally {
      await tlsDovecot.stop();
    }
  });
});

describe('twostep check with SMTP (a real Postfix)', () => {
  let postfix: PostfixInstance;
  const ports = { master: 0, xclient: 0 };

  beforeAll(async () => {
    ports.master = await freePort();
    ports.xclient = await freePort();
    const saslPath = `inet:127.0.0.1:${dovecot.authPort}`;
    postfix = await startPostfix({
      lmtpSocket: dovecot.lmtpSocket,
      saslPath,
      tls: cert,
      extraServices: [
        postfixSnippet('master.cf-master-mode', { port: ports.master, saslPath }),
        postfixSnippet('master.cf-xclient-mode', { port: ports.xclient, saslPath }),
      ].join('\n'),
    });
  }, 60_000);
  afterAll(async () => postfix?.stop());

  const smtpConfig = (service: 'master' | 'xclient', backendLogin: 'master' | 'xclient', backend: Record<string, string> = {}) =>
    config({ smtp: { listen: '', listenTls: '', backendPort: ports[service], backendTls: 'starttls', backendLogin }, backendCa: cert.cert, backend });

  it.each(['master', 'xclient'] as const)('is ok with the config/postfix service of %s mode', async (mode) => {
    const r = await runCli(['--config', await smtpConfig(mode, mode), 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      mode === 'master'
        ? `ok    smtp.backend 127.0.0.1:${ports.master}: offers AUTH PLAIN (backend_login = "master")`
        : `ok    smtp.backend 127.0.0.1:${ports.xclient}: offers XCLIENT LOGIN and AUTH (backend_login = "xclient")`,
    );
  });

  it('with backend.check_user, logs in through Postfix with the master user', async () => {
    const r = await runCli(['--config', await smtpConfig('master', 'master', { check_user: 'alice' }), 'check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ok    smtp.backend 127.0.0.1:${ports.master}: master login as ${MASTER.user} works (logged in as alice)`);
    // Postfix took the AUTH (auth=1; a refused one logs auth=0/1).
    expect(await postfix.waitForLog(/twostep\/smtpd\[\d+\]: disconnect .* auth=1 quit=1/)).toMatch(/twostep\/smtpd\[\d+\]: disconnect .* auth=1 quit=1/);
  });

  it('says what is missing when backend_login = "xclient" meets a service without XCLIENT for twostep (exit 2)', async () => {
    const r = await runCli(['--config', await smtpConfig('master', 'xclient'), 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `twostep: smtp.backend 127.0.0.1:${ports.master}: no XCLIENT LOGIN offered to twostep (smtp.backend_login = "xclient"): ` +
        "list twostep's address in that service's smtpd_authorized_xclient_hosts (config/postfix/README.md)\n",
    );
  });
});
