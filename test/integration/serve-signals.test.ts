import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePorts } from '../helpers/ports.js';
import { startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { RawSmtpClient, saslPlain } from '../helpers/raw-smtp-client.js';
import { connectTestSocket, SocketText } from '../helpers/socket-text.js';
import { makeTestCert, sharedTestCert, type TestCert } from '../helpers/tls.js';
import { MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 12 point 1 against a real `twostep serve` in front of the real Dovecot and Postfix.
 * SIGHUP re-reads the config and the certificates without dropping a session (logged in or not,
 * on IMAP, POP3 and SMTP); the next client gets the new certificate; a new log level applies; a
 * key that needs a restart is named; a broken config is refused and the old one keeps serving.
 * SIGTERM: the three goodbyes (at once before login, at the end of the grace after it) and the
 * exit within the grace; a second signal exits at once. All of it with one process and with two
 * workers ([server] workers = 2: the supervisor checks a reload once and every worker applies it;
 * a shutdown's counts add up the workers').
 */

const LONG = 120_000;
let dir: string;
let certA: TestCert;
let certB: TestCert;
let dovecot: DovecotInstance;
let postfix: PostfixInstance;
let n = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-signals-'));
  certA = sharedTestCert(); // the config is edited to point at B: neither file is written
  certB = makeTestCert(join(dir, 'b'));
  dovecot = await startDovecot({ users: [{ user: 'bob', password: 'bob-main-pw' }], master: MASTER });
  postfix = await startPostfix({ lmtpSocket: dovecot.lmtpSocket, saslPath: `inet:127.0.0.1:${dovecot.authPort}`, tls: certA });
}, LONG);

afterAll(async () => {
  await postfix?.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Instance {
  serve: ServeProcess;
  path: string;
  ports: { imap: number; imaps: number; pop3: number; smtp: number };
}

/** A serve with IMAP (plain and implicit TLS), POP3 and SMTP in front of the test backends. */
async function startInstance(workers: number, server: Record<string, number> = {}): Promise<Instance> {
  const sub = join(dir, `i${++n}`);
  mkdirSync(sub);
  const [imap, imaps, pop3, smtp] = (await freePorts(4)) as [number, number, number, number];
  const path = writeTestConfig({
    dir: sub,
    cert: certA,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${imap}`,
    listenTls: `127.0.0.1:${imaps}`,
    pop3: { listen: `127.0.0.1:${pop3}`, listenTls: '', backendPort: dovecot.pop3Port },
    smtp: { listen: `127.0.0.1:${smtp}`, listenTls: '', backendPort: postfix.submissionPort, backendLogin: 'master' },
    auth: { allow_plaintext: true },
    workers,
    server,
  });
  return { serve: await startServe(path, 60_000), path, ports: { imap, imaps, pop3, smtp } };
}

async function pop3(port: number): Promise<SocketText> {
  const t = new SocketText(await connectTestSocket({ port }), 'utf8');
  await t.until(/^\+OK/);
  return t;
}

/** The SHA-256 fingerprint of the certificate a new implicit-TLS client is shown. */
async function servedFingerprint(port: number): Promise<string> {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', () => resolve());
    s.once('error', reject);
  });
  const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
  s.destroy();
  return fp;
}

const fingerprint = (c: TestCert) => new X509Certificate(c.certPem).fingerprint256;

/** Sessions of each protocol: logged in (IMAP in IDLE, over plain TCP and implicit TLS) and not yet. */
async function openSessions(ports: Instance['ports']) {
  const idle = await RawImapClient.connect({ port: ports.imap });
  await idle.greeting();
  expect(await idle.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
  expect(await idle.command('SELECT INBOX')).toMatch(/^t2 OK/m);
  idle.write('t3 IDLE\r\n');
  await idle.until(/^\+ idling/);
  const imapsIn = await RawImapClient.connect({ port: ports.imaps, tls: true });
  await imapsIn.greeting();
  expect(await imapsIn.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
  const pop3In = await pop3(ports.pop3);
  pop3In.socket.write('USER bob\r\nPASS bob-main-pw\r\n');
  await pop3In.until(/^\+OK Logged in/);
  const smtpIn = await RawSmtpClient.connect({ port: ports.smtp });
  await smtpIn.reply();
  await smtpIn.command('EHLO client.example');
  expect(await smtpIn.command(`AUTH PLAIN ${saslPlain('bob', 'bob-main-pw')}`)).toMatch(/^235 /);
  const imapOut = await RawImapClient.connect({ port: ports.imap });
  await imapOut.greeting();
  const pop3Out = await pop3(ports.pop3);
  const smtpOut = await RawSmtpClient.connect({ port: ports.smtp });
  await smtpOut.reply();
  await smtpOut.command('EHLO client.example');
  return { idle, imapsIn, pop3In, smtpIn, imapOut, pop3Out, smtpOut };
}

type Sessions = Awaited<ReturnType<typeof openSessions>>;

/** Every session still works: the logged-in ones talk to their backend, the others log in now. */
async function allStillWork(s: Sessions): Promise<void> {
  s.idle.write('DONE\r\n');
  expect(await s.idle.until(/^t3 (OK|NO|BAD)/)).toMatch(/^t3 OK/m);
  expect(await s.idle.command('NOOP')).toMatch(/^t3 OK NOOP/m); // the client's own tags: IDLE's t3 was written raw
  expect(await s.imapsIn.command('NOOP')).toMatch(/^t2 OK/m);
  s.pop3In.socket.write('STAT\r\n');
  expect(await s.pop3In.until(/^[+-]/)).toMatch(/^\+OK \d+ \d+/);
  expect(await s.smtpIn.command('NOOP')).toMatch(/^250 /);
  expect(await s.imapOut.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
  s.pop3Out.socket.write('USER bob\r\nPASS bob-main-pw\r\n');
  expect(await s.pop3Out.until(/^[+-]/)).toMatch(/^\+OK/); // USER's answer
  expect(await s.pop3Out.until(/^[+-]/)).toMatch(/^\+OK Logged in/);
  expect(await s.smtpOut.command(`AUTH PLAIN ${saslPlain('bob', 'bob-main-pw')}`)).toMatch(/^235 /);
}

/** SIGHUP, then the log once `count` more lines match `event` (a reload line per worker). */
const sighup = async (i: Instance, event: RegExp, count = 1): Promise<string> => {
  const seen = (i.serve.log().match(new RegExp(event.source, 'g')) ?? []).length;
  i.serve.child.kill('SIGHUP');
  const deadline = Date.now() + 20_000;
  while ((i.serve.log().match(new RegExp(event.source, 'g')) ?? []).length < seen + count) {
    if (Date.now() > deadline || i.serve.child.exitCode !== null || i.serve.child.signalCode !== null) {
      throw new Error(`no ${event} after SIGHUP (exit ${i.serve.child.exitCode ?? i.serve.child.signalCode}):\n${i.serve.log()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return i.serve.log();
};

const logLines = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * Every new client gets `cert`, from every worker: connections until each worker has logged one
 * (debug lines: `[log] level = "debug"`; the kernel picks the worker).
 */
async function everyWorkerServes(i: Instance, cert: TestCert, workers: number): Promise<void> {
  // The probe leaves as soon as it has the certificate: its worker logs `connect`, or `tls.failed` (closed in the handshake).
  const connects = () => logLines(i.serve.log()).filter((l) => l.event === 'connect' || l.event === 'tls.failed');
  const met = new Set<unknown>();
  for (let k = 0; k < 40 && met.size < workers; k++) {
    const before = connects().length;
    expect(await servedFingerprint(i.ports.imaps)).toBe(fingerprint(cert));
    const deadline = Date.now() + 20_000; // its line crosses a pipe: it may trail the handshake
    while (connects().length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    met.add(connects().at(-1)?.worker);
  }
  expect(met.size).toBe(workers);
}

describe.each([1, 2])('with [server] workers = %i', (workers) => {
  describe('SIGHUP', () => {
    it('reloads the certificate, the log level and the limits without dropping a session; names what needs a restart', async () => {
      const i = await startInstance(workers);
      try {
        const s = await openSessions(i.ports);
        expect(await servedFingerprint(i.ports.imaps)).toBe(fingerprint(certA));
        const probe = await RawImapClient.connect({ port: i.ports.imap }); // "connect" is a debug line: not logged at info
        await probe.greeting();
        probe.close();
        expect(i.serve.log()).not.toMatch(/"event":"connect"/);

        const [moved] = await freePorts(1);
        const text = readFileSync(i.path, 'utf8')
          .replace(certA.cert, certB.cert)
          .replace(certA.key, certB.key)
          .replace(`listen = "127.0.0.1:${i.ports.imap}"`, `listen = "127.0.0.1:${moved}"`);
        writeFileSync(i.path, `${text}[log]\nlevel = "debug"\n[limits]\nmax_connections_per_ip = 7\n`);
        const log = await sighup(i, /"event":"reload"/, workers);

        const reload = logLines(log).find((l) => l.event === 'reload');
        expect(reload).toMatchObject({ certificateChanged: true, restartNeeded: ['imap.listen'] });
        expect((reload?.changed as string[]).sort()).toEqual(['limits.max_connections_per_ip', 'log.level', 'tls.cert', 'tls.key']);
        expect(logLines(log).find((l) => l.event === 'reload.restart-needed')?.msg).toBe('imap.listen changed: restart twostep to apply');
        // Each worker takes its share of the limit for the whole server.
        expect(logLines(log).filter((l) => l.event === 'limits.set' && l.maxConnectionsPerIp === Math.ceil(7 / workers))).toHaveLength(workers);

        await allStillWork(s); // nobody was dropped, logged in or not
        await everyWorkerServes(i, certB, workers); // the next client gets the new certificate, in every worker
        // STARTTLS after the reload too.
        const upgraded = await RawImapClient.connect({ port: i.ports.imap }); // still the old port: a restart moves it
        await upgraded.greeting();
        expect(await upgraded.starttls()).toMatch(/^t1 OK/m);
        expect(await upgraded.command('LOGIN bob bob-main-pw')).toMatch(/^t2 OK/m);
        await i.serve.waitForLog(/"event":"connect"/); // the new level applies
        expect(i.serve.child.exitCode).toBeNull();
        for (const c of [s.idle, s.imapsIn, s.imapOut, upgraded]) c.close();
        for (const c of [s.pop3In, s.pop3Out]) c.socket.destroy();
        for (const c of [s.smtpIn, s.smtpOut]) c.close();
      } finally {
        await i.serve.stop();
      }
    }, LONG);

    it('refuses a broken config or an unusable certificate with one line naming the key; the old one keeps serving', async () => {
      const i = await startInstance(workers);
      try {
        const good = readFileSync(i.path, 'utf8');
        writeFileSync(i.path, good.replace('[imap]\n', '[imap]\nlisten_tlz = "x"\n'));
        let log = await sighup(i, /"event":"reload.failed"/);
        expect(logLines(log).find((l) => l.event === 'reload.failed')?.msg).toBe(
          `reload refused, the running config stays: ${i.path}: imap.listen_tlz: unknown key`,
        );
        const garbage = join(dir, `garbage-${n}.pem`);
        writeFileSync(garbage, 'not a certificate\n');
        writeFileSync(i.path, `${good.replace(certA.cert, garbage)}[log]\nlevel = "debug"\n`);
        log = await sighup(i, /"event":"reload.failed"/);
        expect(logLines(log).filter((l) => l.event === 'reload.failed').at(-1)?.msg).toBe(
          `reload refused, the running config stays: tls.cert ${garbage}: not a PEM certificate`,
        );
        expect(log).not.toMatch(/"event":"reload"[,}]/);
        // Still serving with the old config: the old certificate, the old log level, logins work.
        for (let k = 0; k < 4 * workers; k++) expect(await servedFingerprint(i.ports.imaps)).toBe(fingerprint(certA));
        const c = await RawImapClient.connect({ port: i.ports.imap });
        await c.greeting();
        expect(await c.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
        c.close();
        expect(i.serve.log()).not.toMatch(/"event":"connect"/);
        expect(i.serve.child.exitCode).toBeNull();
      } finally {
        await i.serve.stop();
      }
    }, LONG);
  });

  describe('SIGTERM', () => {
    const GRACE_S = 8;

    it('says goodbye before login at once, after login at the end of the grace, and exits within it', async () => {
      const i = await startInstance(workers, { shutdown_grace_seconds: GRACE_S });
      const s = await openSessions(i.ports);
      const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
        i.serve.child.once('exit', (code) => resolve({ code, at: Date.now() })),
      );
      const t0 = Date.now();
      i.serve.child.kill('SIGTERM');

      expect(await s.imapOut.until(/^\* BYE/)).toBe('* BYE Server shutting down.');
      expect(await s.pop3Out.until(/^-ERR/)).toBe('-ERR [SYS/TEMP] Server shutting down.');
      expect(await s.smtpOut.reply()).toBe('421 4.3.2 Service shutting down');
      const preLoginDone = Date.now() - t0;
      // Logged-in sessions hear nothing yet.
      expect(s.idle.closed || s.imapsIn.closed || s.pop3In.closed || s.smtpIn.closed).toBe(false);
      expect([s.pop3In.buffer, s.smtpIn.pending()]).toEqual(['', '']);

      const deadline = GRACE_S * 1000 + 10_000;
      expect(await s.idle.idleBye(deadline)).toBe('* BYE Server shutting down.');
      expect(await s.imapsIn.until(/^\* BYE/, deadline)).toBe('* BYE Server shutting down.');
      expect(await s.pop3In.until(/^-ERR/, deadline)).toBe('-ERR [SYS/TEMP] Server shutting down.');
      expect(await s.smtpIn.reply(deadline)).toBe('421 4.3.2 Service shutting down');
      const loggedInDone = Date.now() - t0;
      expect(loggedInDone).toBeGreaterThan(preLoginDone); // the grace came between

      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - t0).toBeLessThan(GRACE_S * 1000 + 3_000); // the grace, the overrun allowed, and a busy machine
      const shutdown = logLines(i.serve.log()).filter((l) => l.event === 'shutdown');
      expect(shutdown).toHaveLength(1);
      expect(shutdown[0]).toMatchObject({ signal: 'SIGTERM', preLogin: 3, loggedIn: 4, cut: 0, writesLost: 0 });
    }, LONG);

    it('a second signal exits at once', async () => {
      const i = await startInstance(workers, { shutdown_grace_seconds: 600 });
      const c = await RawImapClient.connect({ port: i.ports.imap });
      await c.greeting();
      expect(await c.command('LOGIN bob bob-main-pw')).toMatch(/^t1 OK/m);
      const exited = new Promise<number | null>((resolve) => i.serve.child.once('exit', (code) => resolve(code)));
      i.serve.child.kill('SIGTERM');
      await i.serve.waitForLog(/"event":"stopping"/);
      i.serve.child.kill('SIGINT');
      expect(await exited).toBe(1);
      expect(i.serve.log()).toMatch(/"event":"shutdown.forced".*SIGINT again: exiting now/);
      c.close();
    }, LONG);
  });
});
