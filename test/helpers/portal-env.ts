import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import type { Page } from 'playwright-core';
import { startDovecot, type DovecotInstance, type DovecotUser } from './dovecot.js';
import { freePort } from './ports.js';
import { RawImapClient } from './raw-imap-client.js';
import { sharedTestCert } from './tls.js';
import { MASTER, writeTestConfig } from './twostep-config.js';
import { runCli, startServe, type CliResult, type ServeProcess } from './twostep-process.js';

/** A real Dovecot, and a real `twostep serve` in front of it with IMAPS and the web portal. */
export interface PortalEnv {
  dir: string;
  dovecot: DovecotInstance;
  serve: ServeProcess;
  configPath: string;
  /** http://127.0.0.1:PORT */
  url: string;
  imapsPort: number;
  cli(...args: string[]): Promise<CliResult>;
  /** LOGIN over twostep's IMAPS listener; returns the tagged answer line(s). Logs out after a success. */
  imapLogin(user: string, secret: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPortalEnv(
  users: DovecotUser[],
  portal: Record<string, string | number | boolean> = {},
  /** More config sections, e.g. [clients] (see writeTestConfig). */
  sections?: Record<string, Record<string, unknown>>,
): Promise<PortalEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'twostep-portal-e2e-'));
  const dovecot = await startDovecot({ users, master: MASTER });
  for (const u of users) {
    dovecot.deliver(u.user, `From: a@example.com\r\nTo: ${u.user}\r\nSubject: hi\r\nMessage-ID: <p-${u.user}@example.com>\r\n\r\nhi\r\n`);
  }
  const imapsPort = await freePort();
  const portalPort = await freePort();
  const configPath = writeTestConfig({
    dir,
    cert: sharedTestCert(),
    backendImapPort: dovecot.imapPort,
    listen: '',
    listenTls: `127.0.0.1:${imapsPort}`,
    auth: { revocation_poll_seconds: 1 },
    portal: { listen: `127.0.0.1:${portalPort}`, ...portal },
    ...(sections ? { sections } : {}),
  });
  let serve: ServeProcess;
  try {
    serve = await startServe(configPath);
  } catch (err) {
    await dovecot.stop();
    throw err;
  }
  return {
    dir,
    dovecot,
    serve,
    configPath,
    url: `http://127.0.0.1:${portalPort}`,
    imapsPort,
    cli: (...args) => runCli(['--config', configPath, ...args]),
    async imapLogin(user, secret) {
      const c = await RawImapClient.connect({ port: imapsPort, tls: true });
      try {
        await c.greeting();
        const answer = await c.command(`LOGIN ${user} ${secret}`);
        if (/^t1 OK/m.test(answer)) {
          const sel = await c.command('SELECT INBOX');
          if (!/^t2 OK/m.test(sel)) throw new Error(`SELECT after login failed: ${sel}`);
          await c.command('LOGOUT').catch(() => '');
        }
        return answer;
      } finally {
        c.close();
      }
    },
    async stop() {
      await serve.stop();
      await dovecot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * From the Accounts page, the user walks the setup wizard (password, app, key, a code, Finish);
 * returns the user's authenticator.
 */
export async function walkSetupWizard(user: Page, password: string): Promise<TestAuthenticator> {
  await user.getByRole('link', { name: 'Setup two-step authentication' }).click();
  await user.getByRole('link', { name: 'Begin Setup' }).click();
  await user.getByLabel('Password:').fill(password);
  await user.getByRole('button', { name: 'Next' }).click();
  await user.getByRole('button', { name: 'Next' }).click();
  const phone = new TestAuthenticator((await user.locator('#totp-key').getAttribute('data-key')) as string);
  await user.getByRole('link', { name: 'Next' }).click();
  await user.getByLabel('Code :').fill(await phone.nextCode());
  await user.getByRole('button', { name: 'Next' }).click();
  await user.getByRole('link', { name: 'Finish' }).click();
  return phone;
}

const STEP_MS = 30_000;
/** Time left in the current step for a code of the step before to reach the server (a loaded machine's browser is slow). */
const PREVIOUS_STEP_MARGIN_MS = 12_000;

/**
 * An authenticator app in the test: the next code for `key` that the server has not seen yet
 * (each 30-second step is accepted once). Uses the step before and the next step as well (the
 * server accepts ±1 step), and waits only when two steps ahead would be needed.
 */
export class TestAuthenticator {
  #last = -1;
  constructor(readonly key: string) {}

  async nextCode(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / STEP_MS);
      // The step before is accepted too while this one lasts: used when at least PREVIOUS_STEP_MARGIN_MS
      // of this step remain for the browser to send it, it gives a third code without a wait.
      const earliest = now - current * STEP_MS < STEP_MS - PREVIOUS_STEP_MARGIN_MS ? current - 1 : current;
      const step = Math.max(earliest, this.#last + 1);
      if (step <= current + 1) {
        this.#last = step;
        return authenticator.clone({ epoch: step * STEP_MS + 1_000 }).generate(this.key);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
