import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/crypto/index.js';
import { launchChromium, saveScreenshot } from '../helpers/browser.js';
import { enrol, startPortalHarness, stopPortals, wrongCode } from '../helpers/portal-harness.js';

/**
 * The user pages on a phone-sized screen (360 px) in a real headless Chromium, against an
 * in-process portal (the mail server's password check faked): nothing scrolls sideways and every
 * button of the Applications table can be reached.
 */

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(stopPortals);

const fitsWidth = (p: Page) => p.evaluate('document.documentElement.scrollWidth <= window.innerWidth');

describe('the portal on a phone', { timeout: 60_000 }, () => {
  it('shows the sign-in code step, Accounts with a long application name and its Revoke button, and one-time codes without sideways scrolling', async () => {
    const h = await startPortalHarness();
    const key = await enrol(h, 'bob');
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await p.goto(`${h.url}/sign-in`);
    await p.getByLabel('Email address').fill('bob');
    await p.getByLabel('Password').fill('bob-pw');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByLabel('Code', { exact: true }).fill(wrongCode(key, h.clock.now));
    await p.getByRole('button', { name: 'Verify' }).click();
    expect(await p.getByRole('alert').textContent()).toContain('That code is not valid');
    expect(await fitsWidth(p)).toBe(true);
    h.clock.now += 30_000;
    await p.getByLabel('Code', { exact: true }).fill(totpCode(key, h.clock.now));
    await p.getByRole('button', { name: 'Verify' }).click();
    await p.getByRole('link', { name: 'Add Application Code' }).click();
    await p.getByLabel('Application Name:').fill('Outlook on the laptop in the upstairs study room');
    await p.getByRole('button', { name: 'Next' }).click();
    expect(await p.textContent('#passcode')).toMatch(/^[A-Z]{4}( [A-Z]{4}){3}$/);
    expect(await fitsWidth(p)).toBe(true);
    await p.getByRole('link', { name: 'Done' }).click();
    expect(await fitsWidth(p)).toBe(true);
    const revoke = await p.getByRole('button', { name: /^Revoke Outlook on the laptop/ }).boundingBox();
    expect(revoke).not.toBeNull();
    expect((revoke?.x ?? 0) + (revoke?.width ?? 0)).toBeLessThanOrEqual(360);
    expect(revoke?.height).toBeGreaterThanOrEqual(44);
    // Each row is read with its column names on a narrow screen.
    expect(await p.locator('table.stack td[data-label="Created"]').count()).toBe(1);
    // The header's sign-out buttons and links are thumb-sized too.
    for (const name of ['Sign out', 'Sign out everywhere']) {
      expect((await p.getByRole('button', { name, exact: true }).boundingBox())?.height, name).toBeGreaterThanOrEqual(44);
    }
    expect((await p.getByRole('link', { name: 'Preferences → Accounts' }).boundingBox())?.height).toBeGreaterThanOrEqual(44);
    await saveScreenshot(p, 'portal-phone-accounts-with-application');
    for (const path of ['/codes', '/devices/revoke-others', '/disable', '/apps/new']) {
      await p.goto(h.url + path);
      expect(await fitsWidth(p), path).toBe(true);
    }
    await ctx.close();
  });
});
