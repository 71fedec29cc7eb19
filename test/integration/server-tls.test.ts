import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { freePort } from '../helpers/ports.js';
import { sharedTestCert } from '../helpers/tls.js';
import { MASTER, writeTestConfig } from '../helpers/twostep-config.js';
import { startServe, type ServeProcess } from '../helpers/twostep-process.js';

/**
 * Issue 10 point 6: every TLS listener of a real `serve` (IMAP implicit TLS and STARTTLS, the
 * portal's HTTPS) offers TLS 1.2 only with ECDHE + AEAD suites, TLS 1.3 as is, nothing older, and
 * refuses a client-initiated renegotiation; [tls] min_version and ciphers change that.
 */

let dovecot: DovecotInstance;
let dir: string;
const serves: ServeProcess[] = [];

interface Ports {
  imapTls: number;
  imapPlain: number;
  portal: number;
}

async function serveWith(tlsKeys: string[] = []): Promise<Ports> {
  const sub = mkdtempSync(join(dir, 's-'));
  const cert = sharedTestCert();
  const ports = { imapTls: await freePort(), imapPlain: await freePort(), portal: await freePort() };
  const path = writeTestConfig({
    dir: sub,
    cert,
    backendImapPort: dovecot.imapPort,
    listen: `127.0.0.1:${ports.imapPlain}`,
    listenTls: `127.0.0.1:${ports.imapTls}`,
    portal: { listen: `127.0.0.1:${ports.portal}`, tls: true },
  });
  // The extra [tls] keys go right after the section header.
  writeFileSync(path, readFileSync(path, 'utf8').replace('[tls]\n', `[tls]\n${tlsKeys.join('\n')}\n`));
  serves.push(await startServe(path));
  return ports;
}

/** A TLS handshake to port (after IMAP STARTTLS when `starttls`); resolves the protocol and cipher, or the error. */
function handshake(port: number, o: tls.ConnectionOptions & { starttls?: boolean }): Promise<{ ok: true; version: string; cipher: string; socket: tls.TLSSocket } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const { starttls, ...opts } = o;
    const settle = (r: Awaited<ReturnType<typeof handshake>>) => resolve(r);
    const start = (socket?: net.Socket) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts, ...(socket ? { socket } : {}) });
      s.once('secureConnect', () => settle({ ok: true, version: s.getProtocol() ?? '', cipher: s.getCipher().name, socket: s }));
      s.once('error', (err: Error) => settle({ ok: false, error: err.message }));
    };
    if (!starttls) return start();
    const plain = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (/^\* OK/.test(buf) && !buf.includes('a OK')) {
        if (!buf.includes('STARTTLS sent')) {
          buf += 'STARTTLS sent';
          plain.write('a STARTTLS\r\n');
        }
        return;
      }
      if (/a OK/.test(buf)) {
        plain.off('data', onData);
        start(plain);
      }
    };
    plain.on('data', onData);
    plain.once('error', (err) => settle({ ok: false, error: err.message }));
  });
}

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-tls-'));
  dovecot = await startDovecot({ users: [{ user: 'alice', password: 'alice-main-pw' }], master: MASTER });
});

afterAll(async () => {
  for (const s of serves) await s.stop();
  await dovecot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('default TLS settings', () => {
  let p: Ports;
  beforeAll(async () => {
    p = await serveWith();
  });

  it('TLS 1.3 and TLS 1.2 with ECDHE + AEAD work on every listener', async () => {
    for (const [port, starttls] of [[p.imapTls, false], [p.imapPlain, true], [p.portal, false]] as const) {
      const v13 = await handshake(port, { starttls });
      expect(v13).toMatchObject({ ok: true, version: 'TLSv1.3' });
      const v12 = await handshake(port, { ...TLS12, starttls });
      expect(v12).toMatchObject({ ok: true, version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
      for (const r of [v13, v12]) if (r.ok) r.socket.destroy();
    }
  });

  it('refuses static RSA, CBC, CCM8, ARIA and TLS 1.1 on every listener', async () => {
    const weak = ['AES128-GCM-SHA256', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'AES128-CCM8', 'ECDHE-ARIA128-GCM-SHA256'];
    for (const [port, starttls] of [[p.imapTls, false], [p.imapPlain, true], [p.portal, false]] as const) {
      for (const cipher of weak) {
        const r = await handshake(port, { ...TLS12, ciphers: `${cipher}:@SECLEVEL=0`, starttls });
        expect(r.ok, `${cipher} on port ${port}`).toBe(false);
      }
      const old = await handshake(port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0', starttls });
      expect(old.ok).toBe(false);
    }
  });

  it('refuses a client-initiated renegotiation', async () => {
    for (const [port, starttls] of [[p.imapTls, false], [p.portal, false], [p.imapPlain, true]] as const) {
      const r = await handshake(port, { ...TLS12, starttls });
      if (!r.ok) throw new Error(r.error);
      const outcome = await new Promise<string>((resolve) => {
        r.socket.once('error', (err: Error) => resolve(`error: ${err.message}`));
        r.socket.once('close', () => resolve('closed'));
        const started = r.socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? `error: ${err.message}` : 'renegotiated'));
        if (!started) resolve('not started');
      });
      expect(outcome).not.toBe('renegotiated');
      r.socket.destroy();
    }
  });
});

describe('[tls] min_version and ciphers', () => {
  it('min_version = "TLSv1.3" refuses TLS 1.2; a cipher list is honoured', async () => {
    const p = await serveWith(['min_version = "TLSv1.3"']);
    expect((await handshake(p.imapTls, TLS12)).ok).toBe(false);
    const ok = await handshake(p.imapTls, {});
    expect(ok).toMatchObject({ ok: true, version: 'TLSv1.3' });
    if (ok.ok) ok.socket.destroy();

    const q = await serveWith(['ciphers = "ECDHE-RSA-CHACHA20-POLY1305"']);
    const chacha = await handshake(q.portal, TLS12);
    expect(chacha).toMatchObject({ ok: true, cipher: 'ECDHE-RSA-CHACHA20-POLY1305' });
    if (chacha.ok) chacha.socket.destroy();
    expect((await handshake(q.portal, { ...TLS12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).ok).toBe(false);
  });
});
