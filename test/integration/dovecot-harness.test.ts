// Proves the test backend behaves as the proxy needs: user logins, master logins (LOGIN and
// AUTHENTICATE PLAIN), client-IP forwarding via IMAP ID, POP3, and a clean stop.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDovecotBinary, instanceProcesses, startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { makeTestCert } from '../helpers/tls.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const USERS = [
  { user: 'alice', password: 'alicepw' },
  { user: 'bob', password: 'bobpw' },
];
const MASTER = { user: 'proxymaster', password: 'masterpw' };

/** A line-oriented raw TCP (or TLS) client for protocol-level checks. */
class RawClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** TCP port on 127.0.0.1 (optionally TLS, unverified) or a unix socket path. */
  static connect(target: number | string, secure = false): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock =
        typeof target === 'string'
          ? net.connect({ path: target })
          : secure
            ? tls.connect({ host: '127.0.0.1', port: target, servername: 'localhost', rejectUnauthorized: false })
            : net.connect({ host: '127.0.0.1', port: target });
      sock.once(secure ? 'secureConnect' : 'connect', () => resolve(new RawClient(sock)));
      sock.once('error', reject);
    });
  }
  /** Wait for a line matching re (searching the unread buffer); returns everything up to and including it. */
  async until(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buf.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (re.test(lines[i]!)) {
          const taken = lines.slice(0, i + 1).join('\r\n') + '\r\n';
          this.buf = this.buf.slice(taken.length);
          return taken;
        }
      }
      if (this.sock.destroyed) throw new Error(`connection closed while waiting for ${re}; got: ${this.buf}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got: ${this.buf}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  send(line: string): void {
    this.sock.write(`${line}\r\n`);
  }
  close(): void {
    this.sock.destroy();
  }
}

async function imapLogin(port: number, user: string, pass: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass },
    logger: false,
  });
  client.on('error', () => {
    /* surfaced through connect() */
  });
  await client.connect();
  return client;
}

async function waitForLog(d: DovecotInstance, re: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = d.log();
    if (re.test(log)) return log;
    if (Date.now() > deadline) return log;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Dovecot test backend', () => {
  let dovecot: DovecotInstance;
  let startSeconds = 0;

  beforeAll(async () => {
    expect(findDovecotBinary(), 'Dovecot is not installed: run the install step of .ci/run').not.toBeNull();
    const t0 = Date.now();
    dovecot = await startDovecot({ users: USERS, master: MASTER });
    startSeconds = (Date.now() - t0) / 1000;
  });

  afterAll(async () => {
    await dovecot?.stop();
  });

  it('starts quickly on free loopback ports with its files in one temp dir', () => {
    expect(startSeconds).toBeLessThan(5);
    expect(dovecot.dir.startsWith(os.tmpdir())).toBe(true);
    expect(new Set([dovecot.imapPort, dovecot.pop3Port, dovecot.authPort]).size).toBe(3);
    expect(dovecot.imapsPort).toBeUndefined();
    expect(fs.statSync(dovecot.dir).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(dovecot.lmtpSocket)).toBe(true);
    expect(dovecot.logPath.startsWith(dovecot.dir)).toBe(true);
  });

  it('lets alice log in with her password and read a delivered message', async () => {
    const body = `From: carol@example.test\r\nTo: alice@example.test\r\nSubject: harness ${Date.now()}\r\nMessage-ID: <h1@example.test>\r\n\r\nHello Alice.\r\nSecond line.\r\n`;
    dovecot.deliver('alice', body);
    const client = await imapLogin(dovecot.imapPort, 'alice', 'alicepw');
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const msg = await client.fetchOne('*', { source: true, envelope: true });
        expect(msg).toBeTruthy();
        if (!msg) return;
        expect(msg.source?.toString('utf8').replace(/\r\n/g, '\n')).toBe(body.replace(/\r\n/g, '\n'));
        expect(msg.envelope?.subject).toMatch(/^harness /);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });

  it('refuses a wrong password quickly (no auth penalty)', async () => {
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      await expect(imapLogin(dovecot.imapPort, 'alice', 'wrong')).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(3000);
    }
    // Right after several failures from 127.0.0.1 the right password is not slowed down.
    const t0 = Date.now();
    const client = await imapLogin(dovecot.imapPort, 'bob', 'bobpw');
    expect(Date.now() - t0).toBeLessThan(2000);
    await client.logout();
  });

  it('accepts the master login user*master with the master password', async () => {
    const client = await imapLogin(dovecot.imapPort, `alice*${MASTER.user}`, MASTER.password);
    try {
      const status = await client.status('INBOX', { messages: true });
      expect(status && status.path).toBe('INBOX');
    } finally {
      await client.logout();
    }
    // Master password does not work as a plain login, and the target must exist.
    await expect(imapLogin(dovecot.imapPort, 'alice', MASTER.password)).rejects.toThrow();
    await expect(imapLogin(dovecot.imapPort, `nosuchuser*${MASTER.user}`, MASTER.password)).rejects.toThrow();
    await expect(imapLogin(dovecot.imapPort, `alice*${MASTER.user}`, 'alicepw')).rejects.toThrow();
  });

  it('accepts AUTHENTICATE PLAIN with authzid=alice, authcid=proxymaster', async () => {
    const c = await RawClient.connect(dovecot.imapPort);
    try {
      await c.until(/^\* OK/);
      const plain = Buffer.from(`alice\0${MASTER.user}\0${MASTER.password}`).toString('base64');
      c.send(`a1 AUTHENTICATE PLAIN ${plain}`);
      expect(await c.until(/^a1 /)).toMatch(/^a1 OK/m);
      // The session belongs to alice, not to the master user.
      c.send('a2 NAMESPACE');
      await c.until(/^a2 OK/);
      c.send('a3 LOGOUT');
      await c.until(/^a3 /);
    } finally {
      c.close();
    }
    expect(await waitForLog(dovecot, /imap-login: Info: Login: user=<alice>, method=PLAIN/)).toMatch(
      /imap-login: Info: Login: user=<alice>, method=PLAIN/,
    );
  });

  it('logs the forwarded client address (rip=) after ID x-originating-ip from a trusted network', async () => {
    const c = await RawClient.connect(dovecot.imapPort);
    try {
      await c.until(/^\* OK/);
      c.send('i1 ID ("x-originating-ip" "192.0.2.7" "x-originating-port" "4242")');
      expect(await c.until(/^i1 /)).toMatch(/^i1 OK/m);
      c.send('i2 LOGIN bob bobpw');
      expect(await c.until(/^i2 /)).toMatch(/^i2 OK/m);
      c.send('i3 LOGOUT');
      await c.until(/^i3 /);
    } finally {
      c.close();
    }
    const log = await waitForLog(dovecot, /Login: user=<bob>.*rip=192\.0\.2\.7/);
    expect(log).toMatch(/imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192\.0\.2\.7, lip=127\.0\.0\.1/);
  });

  it('lets users log in over POP3, also with the master login and XCLIENT', async () => {
    dovecot.deliver('bob', 'Subject: pop\r\n\r\nfor pop3\r\n');
    const c = await RawClient.connect(dovecot.pop3Port);
    try {
      await c.until(/^\+OK/);
      c.send('XCLIENT ADDR=198.51.100.9 PORT=5555');
      expect(await c.until(/^[+-]/)).toMatch(/^\+OK/);
      c.send('USER bob');
      await c.until(/^\+OK/);
      c.send('PASS bobpw');
      expect(await c.until(/^[+-]/)).toMatch(/^\+OK/);
      c.send('STAT');
      expect(await c.until(/^[+-]/)).toMatch(/^\+OK [1-9]\d* /);
      c.send('QUIT');
      await c.until(/^\+OK/);
    } finally {
      c.close();
    }
    expect(await waitForLog(dovecot, /pop3-login: Info: Login: user=<bob>.*rip=198\.51\.100\.9/)).toMatch(
      /pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=198\.51\.100\.9/,
    );

    const m = await RawClient.connect(dovecot.pop3Port);
    try {
      await m.until(/^\+OK/);
      const plain = Buffer.from(`alice\0${MASTER.user}\0${MASTER.password}`).toString('base64');
      m.send(`AUTH PLAIN ${plain}`);
      expect(await m.until(/^[+-]/)).toMatch(/^\+OK/);
      m.send('QUIT');
      await m.until(/^\+OK/);
    } finally {
      m.close();
    }
  });

  it('delivers over the LMTP socket (user@domain maps to the user)', async () => {
    const subject = `lmtp ${Date.now()}`;
    const c = await RawClient.connect(dovecot.lmtpSocket);
    try {
      await c.until(/^220 /);
      c.send('LHLO test.example');
      await c.until(/^250 /);
      c.send('MAIL FROM:<carol@example.test>');
      expect(await c.until(/^\d{3} /)).toMatch(/^250 /);
      c.send('RCPT TO:<alice@example.test>');
      expect(await c.until(/^\d{3} /)).toMatch(/^250 /);
      c.send('DATA');
      await c.until(/^354 /);
      c.send(`Subject: ${subject}\r\n\r\nvia lmtp\r\n.`);
      expect(await c.until(/^\d{3} /)).toMatch(/^250 /);
      c.send('QUIT');
    } finally {
      c.close();
    }
    const client = await imapLogin(dovecot.imapPort, 'alice', 'alicepw');
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const found = await client.search({ subject });
        expect(found && found.length).toBe(1);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});

describe('Dovecot test backend lifecycle', () => {
  it('stop() ends every Dovecot process and removes the temp dir', async () => {
    const d = await startDovecot({ users: USERS, master: MASTER });
    expect(instanceProcesses(d.instanceName, d.confPath).length).toBeGreaterThan(1);
    // An open client session must not keep anything alive.
    const client = await imapLogin(d.imapPort, 'alice', 'alicepw');
    client.on('error', () => {});
    const t0 = Date.now();
    await d.stop();
    const stopSeconds = (Date.now() - t0) / 1000;
    expect(stopSeconds).toBeLessThan(2);
    expect(instanceProcesses(d.instanceName, d.confPath)).toEqual([]);
    expect(() => process.kill(d.pid, 0)).toThrow();
    expect(fs.existsSync(d.dir)).toBe(false);
    await new Promise<void>((r, j) => net.connect({ host: '127.0.0.1', port: d.imapPort }).once('error', () => r()).once('connect', () => j(new Error('port still open'))));
    client.close();
    await d.stop(); // idempotent
  });

  it('serves IMAPS with a given certificate', async () => {
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-cert-'));
    try {
      const cert = makeTestCert(certDir);
      expect(cert.certPem).toMatch(/BEGIN CERTIFICATE/);
      const d = await startDovecot({ users: USERS, master: MASTER, tls: { cert: cert.cert, key: cert.key } });
      try {
        expect(d.imapsPort).toBeTypeOf('number');
        const c = await RawClient.connect(d.imapsPort!, true);
        try {
          await c.until(/^\* OK/);
          c.send('t1 LOGIN alice alicepw');
          expect(await c.until(/^t1 /)).toMatch(/^t1 OK/m);
        } finally {
          c.close();
        }
        const ca = cert.certPem;
        const verified = await new Promise<boolean>((resolve) => {
          const s = tls.connect({ host: '127.0.0.1', port: d.imapsPort!, servername: 'localhost', ca }, () => {
            resolve(s.authorized);
            s.destroy();
          });
          s.once('error', () => resolve(false));
        });
        expect(verified).toBe(true);
      } finally {
        await d.stop();
      }
    } finally {
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });
});

describe('config/dovecot snippets for an existing Dovecot', () => {
  const snippetDir = path.join(repoRoot, 'config/dovecot');

  /** Snippet text with /etc/dovecot/master-users pointed at a test file. */
  const snippet = (name: string, masterUsers: string): string =>
    fs.readFileSync(path.join(snippetDir, name), 'utf8').replaceAll('/etc/dovecot/master-users', masterUsers);

  it('parse with doveconf on a minimal existing configuration', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-snippets-'));
    try {
      // master-users made with the README's one-line recipe (password on stdin, never in argv).
      const master = path.join(dir, 'master-users');
      const passwordFile = path.join(dir, 'master-password');
      fs.writeFileSync(passwordFile, 'a-master-password\n', { mode: 0o600 });
      const readme = fs.readFileSync(path.join(snippetDir, 'README.md'), 'utf8');
      const recipe = /^\{ printf 'proxymaster:\{SHA512-CRYPT\}'; openssl passwd -6 -stdin < \/etc\/twostep\/master-password; \} > master-users$/m.exec(readme)?.[0];
      expect(recipe).toBeDefined();
      spawnSync('sh', ['-c', (recipe as string).replace('/etc/twostep/master-password', passwordFile)], { cwd: dir });
      const users = path.join(dir, 'users');
      fs.writeFileSync(users, 'alice:{PLAIN}alicepw::::::\n');
      const conf = path.join(dir, 'dovecot.conf');
      for (const name of ['10-twostep-master.conf', '10-twostep-trusted.conf']) fs.writeFileSync(path.join(dir, name), snippet(name, master));
      fs.writeFileSync(
        conf,
        [
          `base_dir = ${dir}/run`,
          'protocols = imap pop3',
          'ssl = no',
          // an existing installation's own passdb/userdb, read before the snippets (as Debian's conf.d order does)
          `passdb {\n  driver = passwd-file\n  args = ${users}\n}`,
          `userdb {\n  driver = static\n  args = uid=8 gid=8 home=${dir}/mail/%u\n}`,
          `!include ${dir}/10-twostep-master.conf`,
          `!include ${dir}/10-twostep-trusted.conf`,
          '',
        ].join('\n'),
      );
      const r = spawnSync('doveconf', ['-c', conf, '-n'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^auth_master_user_separator = \*$/m);
      expect(r.stdout).toMatch(/^login_trusted_networks = 127\.0\.0\.1\/32 ::1$/m);
      expect(r.stdout).toMatch(/passdb \{\n\s+args = \S+master-users\n\s+driver = passwd-file\n\s+master = yes\n\s+pass = yes\n\s*\}/);
      expect(fs.readFileSync(master, 'utf8')).toMatch(/^proxymaster:\{SHA512-CRYPT\}\$6\$\S+$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('give a working master login when included after the normal passdb (hashed master password)', async () => {
    const hash = spawnSync('doveadm', ['pw', '-s', 'SHA512-CRYPT', '-p', 'masterpw-hashed'], { encoding: 'utf8' });
    expect(hash.status).toBe(0);
    const d = await startDovecot({
      users: USERS,
      master: MASTER,
      configOverride: (conf, p) => {
        // Replace the harness's own master passdb and trusted networks by the admin snippets.
        const masterUsers = path.join(p.dir, 'snippet-master-users');
        fs.writeFileSync(masterUsers, `proxymaster:${hash.stdout.trim()}\n`, { mode: 0o640 });
        fs.chownSync(masterUsers, 0, Number(spawnSync('getent', ['group', 'dovecot'], { encoding: 'utf8' }).stdout.split(':')[2]));
        for (const name of ['10-twostep-master.conf', '10-twostep-trusted.conf']) {
          fs.writeFileSync(path.join(p.dir, name), snippet(name, masterUsers));
        }
        const stripped = conf
          .replace(/^auth_master_user_separator = .*$/m, '')
          .replace(/^login_trusted_networks = .*$/m, '')
          .replace(/passdb \{\n[^}]*master = yes[^}]*\}\n/, '');
        expect(stripped).not.toMatch(/master = yes/);
        return `${stripped}\n!include ${p.dir}/10-twostep-master.conf\n!include ${p.dir}/10-twostep-trusted.conf\n`;
      },
    });
    try {
      const client = await imapLogin(d.imapPort, 'alice*proxymaster', 'masterpw-hashed');
      await client.logout();
      await expect(imapLogin(d.imapPort, 'alice*proxymaster', MASTER.password)).rejects.toThrow();
      await expect(imapLogin(d.imapPort, 'nosuchuser*proxymaster', 'masterpw-hashed')).rejects.toThrow();
      const plain = Buffer.from('bob\0proxymaster\0masterpw-hashed').toString('base64');
      const c = await RawClient.connect(d.imapPort);
      try {
        await c.until(/^\* OK/);
        c.send('x1 ID ("x-originating-ip" "203.0.113.5")');
        await c.until(/^x1 /);
        c.send(`x2 AUTHENTICATE PLAIN ${plain}`);
        expect(await c.until(/^x2 /)).toMatch(/^x2 OK/m);
      } finally {
        c.close();
      }
      expect(await waitForLog(d, /Login: user=<bob>, method=PLAIN, rip=203\.0\.113\.5/)).toMatch(
        /Login: user=<bob>, method=PLAIN, rip=203\.0\.113\.5/,
      );
    } finally {
      await d.stop();
    }
  });
});
