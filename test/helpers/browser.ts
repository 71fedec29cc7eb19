import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium); playwright-core drives it, nothing is downloaded. */
export const CHROMIUM = process.env.TWOSTEP_CHROMIUM ?? '/usr/bin/chromium';

/**
 * One headless Chromium per test file. As root it needs --no-sandbox; background networking,
 * component updates, sync and QUIC are off so the browser talks to nothing but the portal.
 * playwright's launch() gives it a fresh temporary profile (user data dir) each time.
 */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/e2e/', import.meta.url));

/** Saves the page as test-artifacts/e2e/<name>.png (the last page of a test, for humans to look at). */
export async function saveScreenshot(page: Page | undefined, name: string): Promise<void> {
  if (!page || page.isClosed()) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
}
