import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The machine's Chromium (.ci/run installs Debian's when missing); playwright-core downloads no browser. */
const CHROMIUM = process.env.VULNSYNC_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots for the docs are taken only when asked for, so a test run never dirties the clone. */
export const SCREENSHOTS = process.env.VULNSYNC_UI_SCREENSHOTS === '1';
const SCREENSHOT_DIR = new URL('../../docs/ui/', import.meta.url);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/** Saves docs/ui/<name>.png when VULNSYNC_UI_SCREENSHOTS=1; does nothing otherwise. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOT_DIR).pathname, fullPage: true });
}
