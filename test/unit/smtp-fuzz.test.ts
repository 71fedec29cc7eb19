import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import type { AuthDecision, Authenticator } from '../../src/policy/types.js';
import { startSmtpServer, type SmtpServer } from '../../src/protocols/smtp/smtp-server.js';
import { expectNoSessionLeft, expectShapedAnswers, junk, prng, probe, probeAll } from '../helpers/fuzz.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { sharedTestCert } from '../helpers/tls.js';

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
const log = captureLogger();
beforeAll(async () => {
  const c = sharedTestCert();
  server = await startSmtpServer({
    authenticator: neverOk,
    logger: log.logger,
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: null,
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    backendLogin: 'master',
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: c.certPem, key: c.keyPem }),
    allowPlaintext: true,
    hostname: 'twostep.test',
  });
});
afterAll(() => server?.close());

it('answers 400 hostile inputs with SMTP replies only, then still serves and leaks no session', async () => {
  const port = server.plain?.port as number;
  const rand = prng(20261128);
  const payloads = Array.from({ length: 400 }, () => junk(rand, TOKENS));
  const answers = await probeAll(port, payloads);
  expectShapedAnswers(answers, /^220 twostep\.test ESMTP twostep\r\n/, /^[2-5]\d\d[ -]/);
  expect(answers.some((a) => /\r\n421 4\.7\.0 /.test(a.answer))).toBe(true);
  expect(answers.some((a) => /\r\n50[0-4] /.test(a.answer))).toBe(true);

  expect((await probe(port, Buffer.from('NOOP\r\n'))).answer).toMatch(/^250 2\.0\.0 Ok\r\n/m);
  await expectNoSessionLeft(server, log, payloads.length + 1);
}, 60_000);
