import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { startImapServer, type ImapServer } from '../../src/protocols/imap/imap-server.js';
import { expectNoSessionLeft, expectShapedAnswers, junk, prng, probe, probeAll } from '../helpers/fuzz.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { NeverAuthenticator } from '../helpers/session-fixtures.js';
import { sharedTestCert } from '../helpers/tls.js';

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
const log = captureLogger();

beforeAll(async () => {
  const cert = sharedTestCert();
  server = await startImapServer({
    authenticator: auth,
    logger: log.logger,
    listen: { host: '127.0.0.1', port: 0 },
    listenTls: null,
    backend: { host: '127.0.0.1', port: 9, tls: 'none' },
    master: { user: 'm', password: new Secret('m') },
    secureContext: tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }),
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
  expectShapedAnswers(answers, /^\* OK \[CAPABILITY /, SHAPED);
  expect(answers.some((a) => /\* BYE/.test(a.answer))).toBe(true);
  expect(answers.some((a) => / BAD /.test(a.answer))).toBe(true);

  const fresh = await probe(port, Buffer.from('z CAPABILITY\r\n'));
  expect(fresh.answer).toMatch(/^z OK/m);
  await expectNoSessionLeft(server, log, payloads.length + 1);
}, 60_000);
