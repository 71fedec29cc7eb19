import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import type { AuthDecision, Authenticator } from '../../src/policy/types.js';
import { startSmtpServer, type SmtpServer } from '../../src/protocols/smtp/smtp-server.js';
import { junk, prng, probe, probeAll } from '../helpers/fuzz.js';
import { makeTestCert } from '../helpers/tls.js';

/**
 * Hostile input before AUTH, from a fixed seed: SMTP-shaped junk, SASL blobs, NULs, bare CRs,
 * over-long lines, random bytes. The server must answer only SMTP replies, never crash, and
 * leave no session behind.
 */

const TOKENS = [
  'EHLO', 'HELO', 'ehlo x', 'AUTH', 'AUTH PLAIN', 'AUTH LOGIN', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'STARTTLS', 'MAIL FROM:<a@b>',
  'RCPT TO:<c@d>', 'DATA', 'BDAT 10 LAST', 'RSET', 'NOOP', 'QUIT', 'VRFY x', 'XCLIENT LOGIN=root', 'XFORWARD ADDR=1.2.3.4',
  '=', '*', 'AGFsaWNlAHB3', 'YWxpY2U=', '<', '>', ':', '.', '\u0000', '\r', '\n', '\r\n', ' ', '\t', 'é', '\uFFFD',
  'GET / HTTP/1.1', 'CONNECT x:25 HTTP/1.0', 'x'.repeat(300),
];

const neverOk: Authenticator = {
  async authenticate(): Promise<AuthDecision> {
    return { ok: false, reason: 'app-code-required' };
  },
};

let server: SmtpServer;
beforeAll(async () => {
  const c = makeTestCert(mkdtempSync(join(tmpdir(), 'twostep-smtp-fuzz-')));
  server = await startSmtpServer({
    authenticator: neverOk,
    logger: silentLogger(),
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: null,
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    backendLogin: 'master',
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: readFileSync(c.cert), key: readFileSync(c.key) }),
    allowPlaintext: true,
    hostname: 'twostep.test',
  });
});
afterAll(() => server?.close());

it('answers 400 hostile inputs with SMTP replies only, then still serves and leaks no session', async () => {
  const port = server.plain?.port as number;
  const rand = prng(20261128);
  const answers = await probeAll(port, Array.from({ length: 400 }, () => junk(rand, TOKENS)));
  for (const [i, a] of answers.entries()) {
    const lines = a.split('\r\n').filter(Boolean);
    expect(lines[0], `input #${i}`).toBe('220 twostep.test ESMTP twostep');
    for (const line of lines) expect(line, `input #${i}: ${JSON.stringify(line)}`).toMatch(/^[2-5]\d\d[ -]/);
  }
  expect(answers.some((a) => /\r\n421 4\.7\.0 /.test(a))).toBe(true);
  expect(answers.some((a) => /\r\n50[0-4] /.test(a))).toBe(true);

  expect(await probe(port, Buffer.from('NOOP\r\n'))).toMatch(/^250 2\.0\.0 Ok\r\n/m);
  const deadline = Date.now() + 5000;
  while (server.connections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(server.connections()).toBe(0);
}, 60_000);
