import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { startImapServer, type ImapServer } from '../../src/protocols/imap/imap-server.js';
import { junk, prng, probe, probeAll } from '../helpers/fuzz.js';
import { NeverAuthenticator } from '../helpers/session-fixtures.js';

/**
 * Hostile input before login, generated from a fixed seed: IMAP-shaped junk, literals with
 * wild sizes, NULs, bare CRs, over-long lines, random bytes. The server must answer only
 * protocol-shaped lines, never crash, and leave no session behind.
 */

const TOKENS = [
  'a', 'A1', '*', '+', 'LOGIN', 'AUTHENTICATE', 'PLAIN', 'LOGIN', 'STARTTLS', 'CAPABILITY', 'ID', 'NOOP',
  'SELECT', 'FETCH', 'LOGOUT', 'NIL', '(', ')', '((((', '"', '"\\"', '\\', '{5}', '{5+}', '{0}', '{99999999999}',
  '{4294967296+}', '{-1}', '=', 'AGFsaWNlAHB3', '%', '[', ']', '\u0000', '\r', '\n', '\r\n', ' ', '  ', 'é', '\uFFFD',
  'GET / HTTP/1.1', 'x'.repeat(300),
];

let server: ImapServer;
const auth = new NeverAuthenticator();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twostep-fuzz-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2',
    '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
  server = await startImapServer({
    authenticator: auth,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: null,
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: readFileSync(join(dir, 'c')), key: readFileSync(join(dir, 'k')) }),
    allowPlaintext: true,
  });
});
afterAll(() => server?.close());

const SHAPED = /^(\* (OK|NO|BAD|BYE|CAPABILITY|ID)\b|\+ |\+$|[^\s*+]+ (OK|NO|BAD) )/;

it('answers 400 hostile inputs with protocol-shaped lines only, then still serves and leaks no session', async () => {
  const port = server.plain?.port as number;
  const rand = prng(20261128);
  const payloads = Array.from({ length: 400 }, () => junk(rand, TOKENS));
  const answers = await probeAll(port, payloads);
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
