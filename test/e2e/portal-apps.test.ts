import { copyFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, saveScreenshot } from '../helpers/browser.js';
import { startPortalEnv, type PortalEnv } from '../helpers/portal-env.js';
import { oneTimeCodes, openssl, python } from '../helpers/portal-http.js';
import { enableTwoStep } from '../helpers/twostep-config.js';

/**
 * Issue 15 in a real headless Chromium against `twostep serve` with [clients] and a real
 * Dovecot: "Add Application Code" limited to IMAP and SMTP with a lifetime; the result page
 * (and no other page) offers "Set up iPhone / iPad / Mac", whose download is the profile with
 * the code the page shows; the Applications table shows Access and Expires. The result page and
 * the Accounts page are saved as docs/user-side-passcode.png and docs/user-side-applications.png
 * when TWOSTEP_UPDATE_DOCS=1 (else only under test-artifacts/e2e/).
 */

const USER = 'frank';
const PASSWORD = 'frank-main-pw';
/** Copies test-artifacts/e2e/<name>.png to docs/ when TWOSTEP_UPDATE_DOCS=1 (the pictures of docs/user-side.md). */
function toDocs(name: string): void {
  if (process.env.TWOSTEP_UPDATE_DOCS !== '1') return;
  copyFileSync(fileURLToPath(new URL(`../../test-artifacts/e2e/${name}.png`, import.meta.url)), fileURLToPath(new URL(`../../docs/${name}.png`, import.meta.url)));
}

let env: PortalEnv;
let browser: Browser;
let page: Page;
let nextCode: () => Promise<string>;
/** The iPhone's code, from the result page. */
let iphoneCode = '';

beforeAll(async () => {
  env = await startPortalEnv([{ user: USER, password: PASSWORD }], { public_url: 'https://mail.test.example/' }, {
    clients: { host: 'mail.test.example', display_name: 'Test Mail', domains: ['test.example'], login_name: 'localpart' },
    codes: { default_expiry_days: 0, max_expiry_days: 0 },
  });
  await enableTwoStep(env.configPath, USER);
  nextCode = await oneTimeCodes(env.configPath, USER);
  browser = await launchChromium();
  page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 800 } })).newPage();
}, 90_000);

afterEach(async (ctx) => {
  await saveScreenshot(page, `portal-apps-${ctx.task.name}`);
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

const profileLinks = (p: Page) => p.getByRole('link', { name: 'Set up iPhone / iPad / Mac' }).count();

describe('application codes that can do less, and the Apple profile (real Chromium)', { timeout: 60_000 }, () => {
  it('adds a code for IMAP and SMTP that expires in 30 days; only the result page offers the profile, and it holds that code', async () => {
    await page.goto(`${env.url}/sign-in`);
    await page.getByLabel('Email address').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code', { exact: true }).fill(await nextCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.url()).toContain('/preferences/accounts');
    expect(await profileLinks(page)).toBe(0);

    await page.getByRole('link', { name: 'Add Application Code' }).click();
    expect(await profileLinks(page)).toBe(0);
    await page.getByLabel('Application Name:').fill('iPhone');
    await page.getByLabel('POP3').uncheck();
    await page.getByLabel('Passcode expires:').selectOption('30');
    await page.getByRole('button', { name: 'Next' }).click();

    const code = (await page.locator('#passcode').getAttribute('data-code')) as string;
    iphoneCode = code;
    expect(code).toMatch(/^[A-Z]{16}$/);
    expect(await page.textContent('main')).toContain('It signs in over IMAP and SMTP only, and expires on');
    expect(await profileLinks(page)).toBe(1);
    await saveScreenshot(page, 'user-side-passcode');
    toDocs('user-side-passcode');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Set up iPhone / iPad / Mac' }).click()]);
    expect(download.suggestedFilename()).toBe('iPhone.mobileconfig');
    const signed = readFileSync(await download.path());
    const plist = await openssl(['cms', '-verify', '-inform', 'DER', '-noverify'], signed);
    const profile = JSON.parse(await python('import sys, json, plistlib; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))', plist)) as { PayloadContent: unknown[] };
    expect(profile.PayloadContent[0]).toMatchObject({ IncomingPassword: code, OutgoingPassword: code, IncomingMailServerUsername: USER, EmailAddress: `${USER}@test.example` });

    // Used once: the same link now says so.
    const href = (await page.getByRole('link', { name: 'Set up iPhone / iPad / Mac' }).getAttribute('href')) as string;
    const again = await page.request.get(env.url + href);
    expect(again.status()).toBe(410);
    await page.getByRole('link', { name: 'Done' }).click();
    expect(await profileLinks(page)).toBe(0);
  });

  it('shows Access and Expires in the Applications table', async () => {
    expect(await env.imapLogin(USER, iphoneCode)).toMatch(/^t1 OK/m); // a use, for the Last Used column
    await page.goto(`${env.url}/apps/new`);
    await page.getByLabel('Application Name:').fill('Old laptop');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('link', { name: 'Done' }).click();
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBe(2);
    const cells = async (i: number) => (await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim());
    const headers = (await page.locator('table thead th').allTextContents()).map((t) => t.trim());
    expect(headers.slice(0, 5)).toEqual(['Name', 'Created', 'Last Used', 'Access', 'Expires']);
    const iphone = await cells(0);
    expect(iphone[0]).toBe('iPhone');
    expect(iphone[3]).toBe('IMAP, SMTP');
    expect(iphone[4]).toBe(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10));
    const laptop = await cells(1);
    expect([laptop[0], laptop[3], laptop[4]]).toEqual(['Old laptop', 'All', 'Never']);
    await page.locator('#apps-title').scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'user-side-applications');
    toDocs('user-side-applications');
  });
});
