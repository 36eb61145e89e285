import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, which the suite drives. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where page screenshots go (gitignored), for people to look at. */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', '..', 'console', 'test-results');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** A Chromium with a fresh profile; `close()` ends it and removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /** Errors the pages threw or logged, and requests to anything but `origin`. */
  readonly problems: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** Phone-sized viewport for the screenshots. */
export const PHONE = { width: 390, height: 844 } as const;
/** Laptop-sized viewport. */
export const DESKTOP = { width: 1366, height: 850 } as const;

/** Launches Chromium on a fresh user-data dir; every page may talk to `origin` only. */
export async function launchBrowser(origin: string): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'sluice-chromium-'));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport: DESKTOP,
    timeout: 60_000,
  });
  // A step that cannot happen fails in seconds with what it waited for, not at the test's timeout.
  context.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[14]/.test(message.text())) {
        problems.push(`console error: ${message.text()}`);
      }
    });
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) {
        problems.push(`request outside the API: ${url}`);
      }
    });
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    context,
    problems,
    async newPage(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot as `<name>.png` in {@link SCREENSHOT_DIR}: the whole page, or the first screen only. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: options.fullPage ?? true });
}
