import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { makeTestCert, sharedTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { runCliProcess, startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * twostep → Dovecot over TLS, both ways the config offers: STARTTLS on Dovecot's IMAP port and
 * implicit TLS on its IMAPS port, the certificate verified against [backend] ca. A backend whose
 * certificate does not verify is refused: serve does not start in front of it, and when it changes
 * later the client hears UNAVAILABLE, nothing is sent to it.
 */

let dovecot: DovecotInstance;
let dir: string;
let backendCert: { cert: string; key: string };
let code = '';
const running: ServeProcess[] = [];

async function serveWith(name: string, backendTls: 'starttls' | 'tls', backendCa: string): Promise<number> {
  const sub = join(dir, name);
  mkdirSync(sub);
  const port = await freePort();
  const configPath = writeTestConfig({
    dir: sub,
    cert: sharedTestCert(),
    backendImapPort: backendTls === 'tls' ? (dovecot.imapsPort as number) : dovecot.imapPort,
    backendTls,
    backendCa,
    listen: '',
    listenTls: `127.0.0.1:${port}`,
  });
  await enableTwoStep(configPath, 'bob');
  code = await addAppCode(configPath, 'bob', 'Phone');
  running.push(await startServe(configPath));
  return port;
}

async function login(port: number, user: string, secret: string): Promise<string> {
  const c = await RawImapClient.connect({ port, tls: true });
  try {
    await c.greeting();
    const answer = await c.command(`LOGIN ${user} ${secret}`);
    return /^t1 OK/m.test(answer) ? answer + (await c.command('SELECT INBOX')) : answer;
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-backend-tls-'));
  backendCert = makeTestCert(dir);
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
    tls: backendCert,
  });
  dovecot.deliver('bob', 'From: a@example.com\r\nTo: bob\r\nSubject: over TLS\r\n\r\nhi\r\n');
}, 60_000);

afterAll(async () => {
  for (const s of running) await s.stop();
  await dovecot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('twostep to Dovecot over TLS', () => {
  it.each(['starttls', 'tls'] as const)('backend_tls = "%s": application code and passthrough both work', async (mode) => {
    const port = await serveWith(mode, mode, backendCert.cert);
    const viaCode = await login(port, 'bob', code);
    expect(viaCode).toMatch(/^t1 OK \[CAPABILITY [^\]]*IMAP4rev1/m);
    expect(viaCode).toMatch(/^\* 1 EXISTS/m);
    expect(await login(port, 'alice', 'alice-main-pw')).toMatch(/^t1 OK/m);
    expect(await login(port, 'alice', 'wrong')).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
  });

  it('does not start in front of a backend whose certificate does not verify (exit 2, the keys to check)', async () => {
    const otherDir = join(dir, 'other-ca');
    mkdirSync(otherDir);
    const otherCa = makeTestCert(otherDir); // a valid certificate, but not the one Dovecot shows
    const configPath = writeTestConfig({
      dir: otherDir,
      cert: otherCa,
      backendImapPort: dovecot.imapsPort as number,
      backendTls: 'tls',
      backendCa: otherCa.cert,
      listen: '',
      listenTls: `127.0.0.1:${await freePort()}`,
    });
    const r = await runCliProcess(['--config', configPath, 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/"event":"ready"/);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^twostep: imap\\.backend 127\\.0\\.0\\.1:${dovecot.imapsPort}: TLS: .*: check imap\\.backend_tls and backend\\.ca / backend\\.servername$`),
    );
  });

  it('refuses a backend whose certificate stops verifying after start, and says UNAVAILABLE', async () => {
    // The backend address first leads to Dovecot (the start-up check passes), then to a TLS
    // server with another, valid certificate that [backend] ca does not vouch for.
    const impostorDir = join(dir, 'impostor');
    mkdirSync(impostorDir);
    const impostorCert = makeTestCert(impostorDir);
    const impostor = tls.createServer({ cert: impostorCert.certPem, key: impostorCert.keyPem }, (s) => {
      s.on('error', () => {});
      s.write('* OK impostor ready\r\n');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    let target = dovecot.imapsPort as number;
    const forwarder = net.createServer((c) => {
      const up = net.connect(target, '127.0.0.1');
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    const forwardPort = await freePort();
    await new Promise<void>((resolve) => forwarder.listen(forwardPort, '127.0.0.1', resolve));
    try {
      const sub = join(dir, 'switched');
      mkdirSync(sub);
      const port = await freePort();
      const configPath = writeTestConfig({
        dir: sub,
        cert: sharedTestCert(),
        backendImapPort: forwardPort,
        backendTls: 'tls',
        backendCa: backendCert.cert,
        listen: '',
        listenTls: `127.0.0.1:${port}`,
      });
      running.push(await startServe(configPath));
      target = (impostor.address() as net.AddressInfo).port;
      expect(await login(port, 'alice', 'alice-main-pw')).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
      const log = (await running.at(-1)?.waitForLog(/"event":"backend.error"/)) ?? '';
      expect(log).toMatch(/"event":"backend.error"/);
      expect(log).not.toContain('alice-main-pw');
    } finally {
      forwarder.close();
      impostor.close();
    }
  });
});
