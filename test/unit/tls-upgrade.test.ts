import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeServerTls } from '../../src/protocols/shared/tls-upgrade.js';
import { makeTestCert } from '../helpers/tls.js';

let dir: string;
let secureContext: tls.SecureContext;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twostep-tls-upgrade-'));
  const cert = makeTestCert(dir);
  secureContext = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A server whose accepted sockets go through upgradeServerTls (after `prepare`, e.g. a pause as
 * LineReader.detach() leaves it); each outcome is pushed to `outcomes`: 'secure' after a line was
 * echoed over TLS, or the error's message.
 */
async function upgradingServer(handshakeMs: number, prepare?: (s: net.Socket) => void): Promise<{ port: number; outcomes: Promise<string>[]; close(): void }> {
  const outcomes: Promise<string>[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    prepare?.(socket);
    outcomes.push(
      upgradeServerTls(socket, secureContext, handshakeMs).then(
        (t) => {
          t.on('error', () => {});
          t.once('data', (d: Buffer) => t.end(`echo ${d.toString('latin1')}`));
          return 'secure';
        },
        (err: Error) => err.message,
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, outcomes, close: () => server.close() };
}

/** Connects over TLS, sends one line, resolves with what the server answered before it closed. */
function tlsEcho(port: number, via?: (socket: net.Socket) => net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, '127.0.0.1');
    const t = tls.connect({ socket: via ? via(raw) : raw, rejectUnauthorized: false, servername: 'localhost' });
    let got = '';
    t.on('secureConnect', () => t.write('hello\r\n'));
    t.on('data', (d: Buffer) => (got += d.toString('latin1')));
    t.on('end', () => resolve(got));
    t.on('error', reject);
  });
}

describe('upgradeServerTls', () => {
  it('completes the handshake when the ClientHello arrives byte by byte', async () => {
    const s = await upgradingServer(20_000);
    // A relay in front of the server that passes the client's bytes on one at a time.
    const relay = net.createServer((inbound) => {
      const out = net.connect(s.port, '127.0.0.1');
      inbound.on('error', () => out.destroy());
      out.on('error', () => inbound.destroy());
      out.pipe(inbound);
      let queue = Buffer.alloc(0);
      let busy = false;
      const pump = (): void => {
        if (busy || queue.length === 0) return;
        busy = true;
        out.write(queue.subarray(0, 1), () => setTimeout(() => ((busy = false), pump()), 1));
        queue = queue.subarray(1);
      };
      inbound.on('data', (d) => ((queue = Buffer.concat([queue, d])), pump()));
      inbound.on('end', () => {
        const wait = setInterval(() => queue.length === 0 && !busy && (clearInterval(wait), out.end()), 5);
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      await expect(tlsEcho((relay.address() as net.AddressInfo).port)).resolves.toBe('echo hello\r\n');
      await expect(s.outcomes[0]).resolves.toBe('secure');
    } finally {
      relay.close();
      s.close();
    }
  });

  it('works on a socket left paused (STARTTLS after LineReader.detach())', async () => {
    const s = await upgradingServer(20_000, (socket) => socket.pause());
    try {
      await expect(tlsEcho(s.port)).resolves.toBe('echo hello\r\n');
      await expect(s.outcomes[0]).resolves.toBe('secure');
    } finally {
      s.close();
    }
  });

  it('fails when the client leaves before its first byte, and when it says nothing until the deadline', async () => {
    const s = await upgradingServer(300);
    try {
      const quitter = net.connect(s.port, '127.0.0.1');
      await new Promise((r) => quitter.once('connect', r));
      quitter.end();
      const silent = net.connect(s.port, '127.0.0.1');
      silent.on('error', () => {});
      while (s.outcomes.length < 2) await new Promise((r) => setTimeout(r, 5));
      await expect(s.outcomes[0]).resolves.toBe('connection closed during TLS handshake');
      await expect(s.outcomes[1]).resolves.toBe('TLS handshake timed out');
      silent.destroy();
    } finally {
      s.close();
    }
  });
});
