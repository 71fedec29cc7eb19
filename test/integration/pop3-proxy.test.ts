import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineReader } from '../../src/protocols/shared/line-reader.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { codeRowWhen } from '../helpers/store-changes.js';
import { runCli, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * POP3 through twostep in front of a real Dovecot (dovecot-pop3d), with real clients (curl and
 * python's poplib): an application code reads and deletes mail over STLS and implicit TLS, the
 * main password of a 2FA account is refused with the hint, an account without 2FA passes
 * through, Dovecot logs the real client address, Last Used says pop3, revocation ends the session.
 */

const MESSAGE = (to: string, subject: string) =>
  `From: sender@example.com\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 06:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nHello ${to}, this is ${subject}.\r\n`;

let dovecot: DovecotInstance;
let serve: ServeProcess;
let dir: string;
let configPath: string;
let plainPort: number;
let tlsPort: number;
let phoneCode: string;

const cli = (...args: string[]) => runCli(['--config', configPath, ...args]);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** curl against twostep's POP3: STLS on the plain port (--ssl-reqd) or pop3s on the TLS port. */
function curl(user: string, pass: string, path: string, o: { tls: boolean; extra?: string[] }): Promise<Run> {
  const url = o.tls ? `pop3s://127.0.0.1:${tlsPort}${path}` : `pop3://127.0.0.1:${plainPort}${path}`;
  return run('curl', ['-sS', '-k', ...(o.tls ? [] : ['--ssl-reqd']), '--max-time', '15', '-u', `${user}:${pass}`, ...(o.extra ?? []), url]);
}

/** python3's poplib: USER/PASS over STLS or implicit TLS, then the script's own lines (object `m`). */
function poplib(user: string, pass: string, o: { tls: boolean }, body: string[]): Promise<Run> {
  const script = [
    'import poplib, ssl, sys',
    'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
    o.tls
      ? `m = poplib.POP3_SSL('127.0.0.1', ${tlsPort}, context=ctx, timeout=15)`
      : `m = poplib.POP3('127.0.0.1', ${plainPort}, timeout=15); m.stls(context=ctx)`,
    'print(m.user(sys.argv[1]).decode()[:3])',
    'try:',
    '    print(m.pass_(sys.argv[2]).decode())',
    'except poplib.error_proto as e:',
    "    print('REFUSED', e.args[0].decode()); sys.exit(0)",
    ...body,
  ].join('\n');
  return run('python3', ['-c', script, user, pass]);
}

/** A bare POP3 client over TLS (to pick the local address, and to watch the connection end). */
class RawPop3 {
  private constructor(
    readonly socket: tls.TLSSocket,
    private readonly reader: LineReader,
  ) {}

  static async connect(localAddress?: string): Promise<RawPop3> {
    const tcp = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: tlsPort, localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    const socket = tls.connect({ socket: tcp, rejectUnauthorized: false });
    socket.on('error', () => {});
    await new Promise<void>((r, j) => socket.once('secureConnect', () => r()).once('error', j));
    const c = new RawPop3(socket, new LineReader(socket, { maxLineBytes: 1_000_000 }));
    expect(await c.line()).toMatch(/^\+OK /);
    return c;
  }

  async line(): Promise<string> {
    return (await this.reader.readLine()).toString();
  }

  async cmd(text: string): Promise<string> {
    this.socket.write(`${text}\r\n`);
    return this.line();
  }

  /** Resolves true once the server closed the connection, false after ms. */
  closedWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-pop3-it-'));
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  dovecot.deliver('alice', MESSAGE('alice', 'Message for alice'));
  dovecot.deliver('bob', MESSAGE('bob', 'First for bob'));
  dovecot.deliver('bob', MESSAGE('bob', 'Second for bob'));

  const cert = sharedTestCert();
  plainPort = await freePort();
  tlsPort = await freePort();
  configPath = writeTestConfig({
    dir,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: '', // IMAP off: this instance is about POP3
    listenTls: `127.0.0.1:${await freePort()}`,
    pop3: { listen: `127.0.0.1:${plainPort}`, listenTls: `127.0.0.1:${tlsPort}`, backendPort: dovecot.pop3Port },
    auth: { revocation_poll_seconds: 1 },
  });

  await enableTwoStep(configPath, 'bob');
  phoneCode = await addAppCode(configPath, 'bob', 'Phone');
  expect(phoneCode).toMatch(/^[A-Z]{16}$/);

  serve = await startServe(configPath);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('twostep in front of a real Dovecot (POP3)', () => {
  // Maildir order is the delivery order only by chance: tests look messages up by subject.
  const subjectOf = (text: string): string | undefined => /^Subject: (.*?)\r?$/m.exec(text)?.[1];

  it('curl lists and retrieves with an application code over STLS (SASL PLAIN) and over pop3s (lower case)', async () => {
    const list = await curl('bob', phoneCode, '/', { tls: false });
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(/^1 \d+\r?\n2 \d+\r?\n$/);
    const first = await curl('bob', phoneCode, '/1', { tls: false });
    expect(first.stderr).toBe('');
    const second = await curl('bob', phoneCode.toLowerCase(), '/2', { tls: true });
    expect(second.stderr).toBe('');
    expect(new Set([subjectOf(first.stdout), subjectOf(second.stdout)])).toEqual(new Set(['First for bob', 'Second for bob']));
  });

  it('poplib: STAT, LIST, RETR, DELE, QUIT over STLS with USER/PASS and an application code', async () => {
    const out = await poplib('bob', phoneCode, { tls: false }, [
      'print(m.stat())',
      'resp, items, _ = m.list(); print(resp.decode()[:3], len(items))',
      'subjects = {}',
      'for n in (1, 2):',
      "    resp, lines, _ = m.retr(n); subjects[[l.decode() for l in lines if l.startswith(b'Subject:')][0]] = n",
      'print(sorted(subjects))',
      "print(m.dele(subjects['Subject: Second for bob']).decode()[:3])",
      'print(m.quit().decode()[:3])',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('+OK');
    expect(lines[1]).toMatch(/^\+OK/);
    expect(lines[2]).toMatch(/^\(2, \d+\)$/);
    expect(lines.slice(3)).toEqual(['+OK 2', "['Subject: First for bob', 'Subject: Second for bob']", '+OK', '+OK']);
  });

  it('poplib over implicit TLS sees the deletion (code with dashes)', async () => {
    const dashed = phoneCode.replace(/(.{4})(?=.)/g, '$1-');
    const out = await poplib('bob', dashed, { tls: true }, [
      'print(m.stat())',
      "resp, lines, _ = m.retr(1); print([l.decode() for l in lines if l.startswith(b'Subject:')][0])",
      'm.quit()',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n').slice(2)).toEqual([expect.stringMatching(/^\(1, \d+\)$/), 'Subject: First for bob']);
  });

  it('refuses the main password of a 2FA account with the hint (poplib and curl)', async () => {
    const out = await poplib('bob', 'bob-main-pw', { tls: true }, []);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^REFUSED -ERR \[AUTH\] .*application code/m);
    const c = await curl('bob', 'bob-main-pw', '/', { tls: true });
    expect(c.code).not.toBe(0);
    expect(c.stdout).toBe('');
  });

  it('lets an account without 2FA through with its main password, and relays a refusal in its own words', async () => {
    const ok = await poplib('alice', 'alice-main-pw', { tls: true }, [
      "resp, lines, _ = m.retr(1); print([l.decode() for l in lines if l.startswith(b'Subject:')][0])",
      'm.quit()',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Subject: Message for alice');
    const bad = await poplib('alice', 'wrong-password', { tls: true }, []);
    // The words of every refusal: no one can tell two-step accounts apart.
    expect(bad.stdout).toMatch(/^REFUSED -ERR \[AUTH\] Authentication failed\. If this account uses two-step authentication, sign in with an application code\.$/m);
  });

  it('refuses USER before STLS and offers STLS, USER and SASL the way clients expect', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: plainPort });
    const reader = new LineReader(sock, { maxLineBytes: 100_000 });
    const line = async () => (await reader.readLine()).toString();
    expect(await line()).toMatch(/^\+OK /);
    sock.write('CAPA\r\n');
    const caps: string[] = [];
    for (let l = await line(); l !== '.'; l = await line()) caps.push(l);
    expect(caps).toContain('STLS');
    expect(caps).not.toContain('USER');
    sock.write('USER bob\r\n');
    expect(await line()).toMatch(/^-ERR \[AUTH\] Plaintext authentication disallowed/);
    sock.destroy();
  });

  it('passes the real client address to Dovecot (XCLIENT), which logs it as rip=; Last Used says pop3', async () => {
    const since = Date.now();
    const c = await RawPop3.connect('127.0.0.2');
    expect(await c.cmd('USER bob')).toMatch(/^\+OK/);
    expect(await c.cmd(`PASS ${phoneCode}`)).toBe('+OK Logged in.');
    expect(await c.cmd('STAT')).toMatch(/^\+OK 1 \d+$/);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    c.close();
    const log = await dovecot.waitForLog(/pop3-login: (Info: )?Login: user=<bob>.*rip=127\.0\.0\.2/);
    expect(log).toMatch(/pop3-login: (Info: )?Login: user=<bob>.*rip=127\.0\.0\.2/);
    const phone = await codeRowWhen(configPath, 'bob', 'Phone', (r) => Date.parse(r.lastUsedAt ?? '') >= since);
    expect(phone?.lastUsedIp).toBe('127.0.0.2');
    expect(phone?.lastUsedProtocol).toBe('pop3');
    expect(Date.now() - Date.parse(phone?.lastUsedAt as string)).toBeLessThan(60_000);
  });

  it('ends a POP3 session whose application code is revoked', async () => {
    const tablet = await addAppCode(configPath, 'bob', 'Tablet');
    const c = await RawPop3.connect();
    expect(await c.cmd(`AUTH PLAIN ${Buffer.from(`\0bob\0${tablet}`).toString('base64')}`)).toBe('+OK Logged in.');
    expect(await c.cmd('STAT')).toMatch(/^\+OK/);
    expect((await cli('appcode', 'revoke', 'bob', 'Tablet')).code).toBe(0);
    expect(await c.closedWithin(8000)).toBe(true);
    const again = await RawPop3.connect();
    expect(await again.cmd(`AUTH PLAIN ${Buffer.from(`\0bob\0${tablet}`).toString('base64')}`)).toMatch(/^-ERR \[AUTH\] .*application code/);
    again.close();
  });

  it('logged one login line per attempt: curl used SASL PLAIN, poplib USER/PASS', async () => {
    const logins = serve
      .log()
      .split('\n')
      .filter((l) => l.includes('"event":"login"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logins.every((e) => e.proto === 'pop3')).toBe(true);
    const okMechanisms = new Set(logins.filter((e) => e.result === 'ok').map((e) => e.mechanism));
    expect(okMechanisms).toEqual(new Set(['PLAIN', 'USER']));
    expect(logins.filter((e) => e.result === 'fail').map((e) => e.reason)).toContain('app-code-required');
  });

  it('never writes a code or password into its own log or the audit trail', async () => {
    const audit = await cli('audit', '--json');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toContain('pop3');
    for (const text of [serve.log(), audit.stdout]) {
      expect(text).not.toContain(phoneCode);
      expect(text.toLowerCase()).not.toContain(phoneCode.toLowerCase());
      expect(text).not.toContain('bob-main-pw');
      expect(text).not.toContain('alice-main-pw');
      expect(text).not.toContain(MASTER.password);
    }
  });
});
