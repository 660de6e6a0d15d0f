import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; browsers are never downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEP_TIMEOUT = 20_000;

/** Fails at once, with the fix, where Chromium is not installed. */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH`);
}

/** Builds the portal into dist/web when it is missing (a fresh checkout), then starts headless Chromium. */
export async function launchPortalBrowser(root: string): Promise<Browser> {
  if (!fs.existsSync(path.join(root, 'dist/web/index.html'))) execFileSync('npx', ['vite', 'build', 'web'], { cwd: root, stdio: 'inherit' });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Chromium with one browser context signed in to the portal as the admin (every page needs a
 * session; the context keeps the cookie).
 */
export async function adminPortal(root: string, baseURL: string, password: string): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await launchPortalBrowser(root);
  const context = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto('/');
  await page.waitForURL('**/signin?returnTo=**');
  await page.getByRole('textbox', { name: 'Username' }).fill('admin');
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.close();
  return { browser, context };
}

/** Retries an assertion until it passes or the timeout runs out (pages render asynchronously). */
export async function untilPasses<T>(fn: () => Promise<T> | T, timeout = STEP_TIMEOUT, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      if (lastError instanceof Error) lastError.message = `Timed out waiting for ${what}: ${lastError.message}`;
      throw lastError;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
