import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, saveScreenshot } from '../helpers/browser.js';
import { startPortalEnv, TestAuthenticator, type PortalEnv } from '../helpers/portal-env.js';

/**
 * The user guide (§4, §5, §7-§10), walked in a real headless Chromium against `twostep serve`
 * and a real Dovecot: sign in, set up two-step authentication, one-time codes, trusted
 * devices, application codes used over twostep's IMAP listener, and disable it again.
 * The tests run in order and share the state they build (as one user's afternoon would).
 */

const USER = 'erin';
const PASSWORD = 'erin-main-pw';

let env: PortalEnv;
let browser: Browser;
/** "This computer" of the guide; other devices get their own contexts (fresh cookies). */
let home: BrowserContext;
let page: Page;
let lastPage: Page | undefined;
let phone: TestAuthenticator;
let oneTimeCodes: string[] = [];
/** Every secret the walk handled: none may appear in twostep's log. */
const secrets: string[] = [PASSWORD];

beforeAll(async () => {
  env = await startPortalEnv([{ user: USER, password: PASSWORD }]);
  const allow = await env.cli('user', 'allow', USER);
  expect(allow.code, allow.stderr).toBe(0);
  browser = await launchChromium();
  home = await browser.newContext();
  page = await home.newPage();
}, 90_000);

afterEach(async (ctx) => {
  await saveScreenshot(lastPage ?? page, `portal-user-${ctx.task.name}`);
  lastPage = undefined;
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

async function signIn(p: Page, password = PASSWORD): Promise<void> {
  await p.goto(`${env.url}/sign-in`);
  await p.getByLabel('Email address').fill(USER);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForLoadState();
}

async function signOut(p: Page): Promise<void> {
  await p.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect.poll(() => p.url()).toContain('/sign-in');
}

/**
 * In the page: contrast (WCAG relative luminance) of the element's outline against the first
 * opaque background behind it; 0 when it has no outline of at least 2 px.
 */
const FOCUS_CONTRAST_JS = `(sel) => {
  const lum = (css) => {
    const [r, g, b] = (css.match(/\\d+(\\.\\d+)?/g) || []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const el = document.querySelector(sel);
  let bg = el.parentElement;
  while (bg && getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
  const st = getComputedStyle(el);
  if (st.outlineStyle === 'none' || parseFloat(st.outlineWidth) < 2) return 0;
  const [hi, lo] = [lum(st.outlineColor), lum(bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)')].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}`;

const codesOn = async (p: Page): Promise<string[]> => (await p.locator('#one-time-codes li').allTextContents()).map((s) => s.trim());

describe('the user guide in a browser (real Chromium, real Dovecot)', { timeout: 60_000 }, () => {
  it('refuses a wrong password and signs in with the mail password (no two-step yet)', async () => {
    await signIn(page, 'wrong-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not correct');
    await signIn(page);
    expect(page.url()).toContain('/preferences/accounts');
    expect(await page.getByRole('heading', { name: 'Accounts' }).isVisible()).toBe(true);
    expect(await page.textContent('main')).toContain('Not using two-step authentication');
    expect(await page.getByRole('link', { name: 'Setup two-step authentication' }).isVisible()).toBe(true);
  });

  it('sets up two-step authentication: Begin Setup, password, app, key and QR code, code, Success, Finish', async () => {
    await page.getByRole('link', { name: 'Setup two-step authentication' }).click();
    expect(await page.textContent('main')).toContain('Two-step authentication adds additional security');
    await page.getByRole('link', { name: 'Begin Setup' }).click();
    expect(await page.textContent('main')).toContain(`you must provide the password for the account "${USER}"`);
    await page.getByLabel('Password:').fill('not-my-password');
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('not correct');
    await page.getByLabel('Password:').fill(PASSWORD);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.textContent('main')).toContain('Google Authenticator');
    await page.getByRole('button', { name: 'Next' }).click();

    // The key for manual entry, and a QR code the browser actually decoded as an image.
    const key = (await page.locator('#totp-key').getAttribute('data-key')) as string;
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    expect((await page.locator('#totp-key').textContent())?.replace(/\s/g, '')).toBe(key);
    const qr = page.getByRole('img', { name: /QR code/ });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 100)).toBe(true);
    phone = new TestAuthenticator(key);
    secrets.push(key);
    await saveScreenshot(page, 'portal-user-setup-key-and-qr');

    await page.getByRole('link', { name: 'Next' }).click();
    expect(await page.textContent('main')).toContain('Enter code to confirm setup');
    await page.getByLabel('Code :').fill('000000');
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('does not match');
    await page.getByLabel('Code :').fill(await phone.nextCode());
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByRole('heading', { name: 'Success!' }).isVisible()).toBe(true);
    oneTimeCodes = await codesOn(page);
    expect(oneTimeCodes).toHaveLength(10);
    await page.getByRole('link', { name: 'Finish' }).click();
    const main = await page.textContent('main');
    expect(main).toContain('Using two-step authentication');
    expect(main).toContain('10 unused codes');
    expect(main).toContain('You have 0 trusted devices');
  });

  it('views, prints and regenerates one-time codes (the old ones die)', async () => {
    await page.goto(`${env.url}/preferences/accounts`);
    await page.getByRole('link', { name: 'View' }).click();
    expect(await codesOn(page)).toEqual(oneTimeCodes);
    await page.getByRole('link', { name: 'Print' }).click();
    expect(page.url()).toContain('/codes/print');
    expect(await codesOn(page)).toEqual(oneTimeCodes);
    expect(await page.locator('header').count()).toBe(0); // print-friendly: no navigation
    expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(true); // shown by the static script
    await page.emulateMedia({ media: 'print' });
    await saveScreenshot(page, 'portal-user-print-page');
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('link', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Generate new codes' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('old ones no longer work');
    const fresh = await codesOn(page);
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => oneTimeCodes.includes(c))).toEqual([]);
    oneTimeCodes = fresh;
  });

  it('asks for the 6-digit code at sign-in, trusts this computer, then does not ask again', async () => {
    await signOut(page);
    await signIn(page);
    expect(page.url()).toContain('/sign-in/code');
    await page.getByLabel('Code').fill('123456');
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('not valid');
    await page.getByLabel('Code').fill(await phone.nextCode());
    await page.getByLabel('Trust this computer').check();
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(page.url()).toContain('/preferences/accounts');
    expect(await page.textContent('main')).toContain('You have 1 trusted device');

    await signOut(page);
    await signIn(page);
    expect(page.url()).toContain('/preferences/accounts'); // no code asked
  });

  it('adds an application code, uses it over IMAP, shows Last Used, revokes it and IMAP refuses it', async () => {
    // The main password no longer opens IMAP once two-step is on.
    expect(await env.imapLogin(USER, PASSWORD)).toMatch(/^t1 NO/m);

    await page.getByRole('link', { name: 'Add Application Code' }).click();
    await page.getByLabel('Application Name:').fill('Outlook without connector');
    await page.getByRole('button', { name: 'Next' }).click();
    const shown = (await page.locator('#passcode').textContent()) as string;
    expect(shown).toMatch(/^[A-Z]{4} [A-Z]{4} [A-Z]{4} [A-Z]{4}$/);
    const code = shown.replace(/ /g, '');
    secrets.push(code);
    expect(await page.locator('#passcode').getAttribute('data-code')).toBe(code);
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Done' }).click();
    const row = page.getByRole('row', { name: /Outlook without connector/ });
    expect(await row.textContent()).toContain('-'); // never used yet

    expect(await env.imapLogin(USER, code)).toMatch(/^t1 OK/m);
    await page.reload();
    const used = row.locator('time').last();
    expect(await used.textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await used.getAttribute('title')).toMatch(/from 127\.0\.0\.1 via IMAP/);
    expect(await row.textContent()).toContain('via IMAP');

    await row.getByRole('button', { name: 'Revoke Outlook without connector' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('revoked');
    expect(await page.textContent('main')).toContain('No results found.');
    expect(await env.imapLogin(USER, code)).toMatch(/^t1 NO/m);
  });

  it('signs in elsewhere with a one-time code, which works only once', async () => {
    const laptop = await browser.newContext();
    const p = await laptop.newPage();
    lastPage = p;
    await signIn(p);
    expect(p.url()).toContain('/sign-in/code');
    const otc = oneTimeCodes[0] as string;
    await p.getByLabel('Code').fill(otc);
    await p.getByLabel('Trust this computer').check();
    await p.getByRole('button', { name: 'Verify' }).click();
    expect(p.url()).toContain('/preferences/accounts');
    expect(await p.textContent('main')).toContain('9 unused codes');
    expect(await p.textContent('main')).toContain('You have 2 trusted devices');

    const kiosk = await browser.newContext();
    const k = await kiosk.newPage();
    await signIn(k);
    await k.getByLabel('Code').fill(otc);
    await k.getByRole('button', { name: 'Verify' }).click();
    expect(await k.getByRole('alert').textContent()).toContain('not valid');
    expect(k.url()).toContain('/sign-in/code');
    await kiosk.close();

    // "revoke all other devices" from this computer: the laptop is asked for a code again.
    await page.goto(`${env.url}/preferences/accounts`);
    await page.getByRole('link', { name: 'revoke all other devices' }).click();
    expect(await page.getByRole('alertdialog').textContent()).toContain('Revoke all other devices?');
    await page.getByRole('button', { name: 'Revoke All' }).click();
    expect(await page.textContent('main')).toContain('You have 1 trusted device');
    await signOut(p);
    await signIn(p);
    expect(p.url()).toContain('/sign-in/code');
    await laptop.close();
    lastPage = undefined;
  });

  it('revokes this device: the next sign-in asks for a code again', async () => {
    await page.goto(`${env.url}/preferences/accounts`);
    await page.getByRole('link', { name: 'revoke this device' }).click();
    expect(await page.getByRole('alertdialog').textContent()).toContain('Revoke this device?');
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    expect(await page.textContent('main')).toContain('You have 0 trusted devices');
    await signOut(page);
    await signIn(page);
    expect(page.url()).toContain('/sign-in/code');
    await page.getByLabel('Code').fill(oneTimeCodes[1] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(page.url()).toContain('/preferences/accounts');
  });

  it('disables two-step authentication after a warning; the main password works over IMAP again', async () => {
    await page.getByRole('link', { name: 'Disable two-step authentication ...' }).click();
    expect(await page.getByRole('alertdialog').textContent()).toContain('Disable two-step authentication?');
    await page.getByRole('button', { name: 'Yes' }).click();
    const main = await page.textContent('main');
    expect(main).toContain('Not using two-step authentication');
    expect(await env.imapLogin(USER, PASSWORD)).toMatch(/^t1 OK/m);
  });

  it('logged no password, key or code along the way', async () => {
    const log = await env.serve.waitForLog(/"event":"login"/);
    expect(log).toMatch(/portal\.listening/);
    for (const s of secrets) expect(log).not.toContain(s);
    for (const c of oneTimeCodes) expect(log).not.toMatch(new RegExp(`\\b${c}\\b`));
  });

  it('is usable on a phone: no sideways scrolling, large tap targets', async () => {
    const phoneCtx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const p = await phoneCtx.newPage();
    lastPage = p;
    await signIn(p);
    expect(p.url()).toContain('/preferences/accounts');
    for (const path of ['/preferences/accounts', '/setup', '/sign-in']) {
      await p.goto(env.url + path);
      expect(await p.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    }
    await p.goto(`${env.url}/preferences/accounts`);
    const box = await p.getByRole('link', { name: 'Setup two-step authentication' }).boundingBox();
    expect(box?.height).toBeGreaterThanOrEqual(44);
    await saveScreenshot(p, 'portal-user-phone-accounts');
    await p.goto(`${env.url}/sign-in`);
  });

  it('shows keyboard focus with a ring of at least 3:1 contrast, in the page and in the header', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    lastPage = p;
    await signIn(p);
    const focusContrast = async (selector: string) => Number(await p.evaluate(`(${FOCUS_CONTRAST_JS})(${JSON.stringify(selector)})`));
    await p.goto(`${env.url}/preferences/accounts`);
    await p.keyboard.press('Tab'); // skip link
    await p.keyboard.press('Tab'); // brand link in the header
    expect(await p.evaluate('document.activeElement.className')).toBe('brand');
    expect(await focusContrast('header .brand')).toBeGreaterThanOrEqual(3);
    await p.locator('main a.button').first().focus();
    await p.keyboard.press('Shift+Tab');
    await p.keyboard.press('Tab'); // keyboard focus, so :focus-visible applies
    expect(await focusContrast('main a.button')).toBeGreaterThanOrEqual(3);
    await ctx.close();
  });
});
