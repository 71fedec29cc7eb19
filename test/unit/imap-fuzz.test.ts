import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import type { AuthDecision, AuthRequest, Authenticator } from '../../src/policy/types.js';
import { startImapServer, type ImapServer } from '../../src/protocols/imap/imap-server.js';

/**
 * Hostile input before login, generated from a fixed seed: IMAP-shaped junk, literals with
 * wild sizes, NULs, bare CRs, over-long lines, random bytes. The server must answer only
 * protocol-shaped lines, never crash, and leave no session behind.
 */

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  'a', 'A1', '*', '+', 'LOGIN', 'AUTHENTICATE', 'PLAIN', 'LOGIN', 'STARTTLS', 'CAPABILITY', 'ID', 'NOOP',
  'SELECT', 'FETCH', 'LOGOUT', 'NIL', '(', ')', '((((', '"', '"\\"', '\\', '{5}', '{5+}', '{0}', '{99999999999}',
  '{4294967296+}', '{-1}', '=', 'AGFsaWNlAHB3', '%', '[', ']', '\u0000', '\r', '\n', '\r\n', ' ', '  ', 'é', '\uFFFD',
  'GET / HTTP/1.1', 'x'.repeat(300),
];

function junk(rand: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(rand() * 25);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.7) parts.push(Buffer.from(TOKENS[Math.floor(rand() * TOKENS.length)] as string));
    else if (r < 0.9) parts.push(Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))));
    else parts.push(Buffer.alloc(Math.floor(rand() * 20_000), 0x41)); // long runs: line and total caps
    if (rand() < 0.4) parts.push(Buffer.from(rand() < 0.5 ? '\r\n' : ' '));
  }
  return Buffer.concat(parts);
}

class NeverAuthenticator implements Authenticator {
  calls = 0;
  async authenticate(_req: AuthRequest): Promise<AuthDecision> {
    this.calls++;
    return { ok: false, reason: 'app-code-required' };
  }
  reportPassthrough(): void {}
}

let server: ImapServer;
const auth = new NeverAuthenticator();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twostep-fuzz-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2',
    '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
  server = await startImapServer({
    authenticator: auth,
    logger: silentLogger(),
    listen: '127.0.0.1:0',
    listenTls: '',
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: readFileSync(join(dir, 'c')), key: readFileSync(join(dir, 'k')) }),
    allowPlaintext: true,
  });
});
afterAll(() => server?.close());

/** Sends the bytes, reads until the server closes or goes quiet; returns what it said. */
function probe(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    let quiet: NodeJS.Timeout;
    const done = () => {
      clearTimeout(quiet);
      s.destroy();
      resolve(got);
    };
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 250);
    };
    s.on('data', (d) => {
      got += d.toString('latin1');
      rearm();
    });
    s.on('error', () => {});
    s.on('close', done);
    s.once('connect', () => {
      s.write(payload);
      rearm();
    });
  });
}

const SHAPED = /^(\* (OK|NO|BAD|BYE|CAPABILITY|ID)\b|\+ |\+$|[^\s*+]+ (OK|NO|BAD) )/;

it('answers 400 hostile inputs with protocol-shaped lines only, then still serves and leaks no session', async () => {
  const port = server.plain?.port as number;
  const rand = prng(20261128);
  const payloads = Array.from({ length: 400 }, () => junk(rand));
  const answers: string[] = [];
  for (let i = 0; i < payloads.length; i += 16) {
    answers.push(...(await Promise.all(payloads.slice(i, i + 16).map((p) => probe(port, p)))));
  }
  for (const [i, a] of answers.entries()) {
    const lines = a.split('\r\n').filter(Boolean);
    expect(lines[0], `input #${i}`).toMatch(/^\* OK \[CAPABILITY /);
    for (const line of lines) expect(line, `input #${i}: ${JSON.stringify(line)}`).toMatch(SHAPED);
  }
  expect(answers.some((a) => /\* BYE/.test(a))).toBe(true);
  expect(answers.some((a) => / BAD /.test(a))).toBe(true);

  const fresh = await probe(port, Buffer.from('z CAPABILITY\r\n'));
  expect(fresh).toMatch(/^z OK/m);
  const deadline = Date.now() + 5000;
  while (server.connections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(server.connections()).toBe(0);
}, 60_000);
