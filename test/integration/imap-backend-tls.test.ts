import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { makeTestCert } from '../helpers/tls.js';
import { addAppCode, enableTwoStep, MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * twostep → Dovecot over TLS, both ways the config offers: STARTTLS on Dovecot's IMAP port and
 * implicit TLS on its IMAPS port, the certificate verified against [backend] ca. A backend whose
 * certificate does not verify is refused: the client hears UNAVAILABLE, nothing is sent to it.
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
    cert: makeTestCert(sub),
    backendImapPort: backendTls === 'tls' ? (dovecot.imapsPort as number) : dovecot.imapPort,
    backendTls,
    backendCa,
    listen: '',
    listenTls: `127.0.0.1:${port}`,
  });
  if (name !== 'wrong-ca') {
    await enableTwoStep(configPath, 'bob');
    code = await addAppCode(configPath, 'bob', 'Phone');
  }
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

  it('refuses a backend whose certificate does not verify, and says UNAVAILABLE', async () => {
    const otherDir = join(dir, 'other-ca');
    mkdirSync(otherDir);
    const otherCa = makeTestCert(otherDir); // a valid certificate, but not the one Dovecot shows
    const port = await serveWith('wrong-ca', 'tls', otherCa.cert);
    expect(await login(port, 'alice', 'alice-main-pw')).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
    const log = (await running.at(-1)?.waitForLog(/"event":"backend.error"/)) ?? '';
    expect(log).toMatch(/"event":"backend.error"/);
    expect(log).not.toContain('alice-main-pw');
  });
});
