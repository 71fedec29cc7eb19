import net from 'node:net';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { imapPasswordChecker } from '../../src/portal/imap-password-checker.js';

const PASSWORD = 'main-Pw-7f3a9c-never-logged';

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let out = '';
  const logger = createLogger({
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    }),
  });
  return { logger, text: () => out };
}

/** A port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

it('logs a failed portal password check by its event and error class, never the password or the pass', async () => {
  const { logger, text } = capture();
  // The pass source fails with an error whose words quote the password (as a careless library's might).
  const failingPasses = { issue: () => Promise.reject(new Error(`bad request: ${PASSWORD}`)) };
  const a = imapPasswordChecker({ host: '127.0.0.1', port: await closedPort(), tls: 'none' }, logger, failingPasses);
  expect(await a.check('alice', new Secret(PASSWORD), '192.0.2.1')).toBe('backend-unavailable');
  // The backend refuses the connection: a system error, whose words are logged.
  const b = imapPasswordChecker({ host: '127.0.0.1', port: await closedPort(), tls: 'none' }, logger, { issue: () => 'PASS-1234-one-time' });
  expect(await b.check('alice', new Secret(PASSWORD), '192.0.2.1')).toBe('backend-unavailable');

  const lines = text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l.event)).toEqual(['portal.password-check-failed', 'portal.password-check-failed']);
  expect(lines[0]).toMatchObject({ errName: 'Error' });
  expect(lines[0]).not.toHaveProperty('err');
  expect(text()).not.toContain(PASSWORD);
  expect(text()).not.toContain('PASS-1234-one-time');
});

it("the verify service's line for a portal password check names the user and service, never the password or the pass", async () => {
  const { answerVerify } = await import('../../src/verify/verify-decision.js');
  const { PasswordCheckPasses } = await import('../../src/verify/password-check-passes.js');
  let out = '';
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    }),
  });
  const passes = new PasswordCheckPasses();
  const pass = passes.issue('alice');
  const never = { authenticate: () => Promise.reject(new Error('the policy is not asked for a live pass')) };
  const answer = await answerVerify(
    never,
    {
      user: 'alice',
      password: new Secret(PASSWORD),
      service: 'imap',
      rip: '192.0.2.1',
      rport: 1234,
      lip: '127.0.0.1',
      secured: 'secured',
      clientId: `"name" "twostep portal" "x-twostep-check" "${pass}"`,
      mech: 'PLAIN',
      session: 'abc123',
    },
    logger,
    passes,
  );
  expect(answer).toEqual({ kind: 'next' });
  expect(out).toContain('"why":"portal-password-check"');
  expect(out).not.toContain(PASSWORD);
  expect(out).not.toContain(pass);
});
