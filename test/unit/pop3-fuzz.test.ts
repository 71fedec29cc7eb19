import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { startPop3Server, type Pop3Server } from '../../src/protocols/pop3/pop3-server.js';
import { expectNoSessionLeft, expectShapedAnswers, junk, prng, probe, probeAll } from '../helpers/fuzz.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { NeverAuthenticator } from '../helpers/session-fixtures.js';
import { sharedTestCert } from '../helpers/tls.js';

/**
 * Hostile input before login, generated from a fixed seed: POP3-shaped junk (USER/PASS/AUTH with
 * bad base64, "*" cancels, STLS with trailing bytes), NULs, bare CRs, over-long lines, random
 * bytes. The server must answer only protocol-shaped lines, never crash, and leave no session.
 */

const TOKENS = [
  'USER', 'PASS', 'AUTH', 'AUTH PLAIN', 'AUTH LOGIN', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'CAPA', 'STLS', 'QUIT', 'APOP',
  'STAT', 'LIST', 'RETR 1', 'DELE', 'XCLIENT ADDR=1.2.3.4', 'alice', 'AGFsaWNlAHB3', 'AGFsaWNlAHB3=', '=', '*', '+',
  '+OK', '-ERR', '.', '\u0000', '\r', '\n', '\r\n', ' ', '  ', '\t', 'é', '\uFFFD', 'GET / HTTP/1.1', 'x'.repeat(300),
];

let server: Pop3Server;
const log = captureLogger();

beforeAll(async () => {
  const cert = sharedTestCert();
  server = await startPop3Server({
    authenticator: new NeverAuthenticator(),
    logger: log.logger,
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: null,
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }),
    allowPlaintext: true,
  });
});
afterAll(async () => server?.close());

/** +OK / -ERR replies, SASL continuations, and the bare lines of CAPA and AUTH listings. */
const SHAPED = /^(\+OK\b|-ERR |\+ |\+$|\.$|(TOP|UIDL|RESP-CODES|PIPELINING|AUTH-RESP-CODE|STLS|USER|SASL PLAIN LOGIN|PLAIN|LOGIN)$)/;

it('answers 400 hostile inputs with protocol-shaped lines only, then still serves and leaks no session', async () => {
  const port = server.plain?.port as number;
  const rand = prng(20261128);
  const payloads = Array.from({ length: 400 }, () => junk(rand, TOKENS));
  const answers = await probeAll(port, payloads);
  expectShapedAnswers(answers, /^\+OK twostep ready\.\r\n/, SHAPED);
  expect(answers.some((a) => /-ERR Input line too long\./.test(a.answer))).toBe(true);
  expect(answers.some((a) => /-ERR Unknown command\./.test(a.answer))).toBe(true);

  const fresh = await probe(port, Buffer.from('CAPA\r\n'));
  expect(fresh.answer).toMatch(/^\+OK Capability list follows\r\n/m);
  await expectNoSessionLeft(server, log, payloads.length + 1);
}, 60_000);
