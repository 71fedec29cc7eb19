import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { imapPasswordChecker } from '../../src/portal/imap-password-checker.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { MASTER } from '../helpers/twostep-config.js';

/**
 * The portal's password check against a real Dovecot: the mail server judges the main password,
 * and the browser's address (not twostep's) is what Dovecot logs and penalises.
 */
let dovecot: DovecotInstance;

beforeAll(async () => {
  dovecot = await startDovecot({ users: [{ user: 'hana', password: 'hana-main-pw' }], master: MASTER });
});
afterAll(async () => {
  await dovecot?.stop();
});

it('accepts the right password, rejects a wrong one, and Dovecot logs the browser as rip=', async () => {
  const checker = imapPasswordChecker({ host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' }, silentLogger());
  expect(await checker.check('hana', new Secret('hana-main-pw'), '192.0.2.44')).toBe('ok');
  expect(await checker.check('hana', new Secret('not-her-password'), '198.51.100.9')).toBe('rejected');
  const log = await dovecot.waitForLog(/rip=198\.51\.100\.9/);
  expect(log).toMatch(/Login: user=<hana>.*rip=192\.0\.2\.44/);
  expect(log).toMatch(/rip=198\.51\.100\.9/);
  expect(log).not.toContain('hana-main-pw');
});
