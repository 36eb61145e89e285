import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { createUploader, type Uploader, type UploaderOptions } from '@sluice/uploader-sdk';
import type { Page } from 'playwright-core';
import { test as base, expect } from 'vitest';
import { DESKTOP, launchBrowser, type TestBrowser } from './browser.js';

/** The admin key a server on loopback accepts: its `ADMIN_KEY`, else the development admin key. */
export function adminKeyOf(server: TestServer): string {
  return server.config.admin.key ?? 'dev-admin-key';
}

/** Starts uploaders on the file's server; each is closed and its queue removed after the file. */
export type StartUploader = (options?: Partial<UploaderOptions>) => Promise<Uploader>;

interface Fixtures {
  /** The ingest API (ROLE=all: the blob worker uploads to `DATA_DIR/objects`), one per file. */
  server: TestServer;
  /** Chromium on a fresh profile, one per file; no page may throw or reach beyond the API. */
  browser: TestBrowser;
  startUploader: StartUploader;
  /** A new page signed in to the console at `viewport`. */
  signedIn: (viewport?: { width: number; height: number }) => Promise<Page>;
}

/** The console's end-to-end test: a real API, the real SDK, and Chromium. */
export const it = base.extend<Fixtures>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring.
    async ({}, use) => {
      const server = await startTestServer({
        role: 'all',
        // The blob the object store refuses is logged as an error, on purpose; keep the output for real ones.
        logLevel: 'fatal',
        // One attempt: a blob the object store refuses is `failed` at once, for the retry story.
        worker: { maxAttempts: 1, pollIntervalMs: 50, backoffBaseMs: 50 },
      });
      await use(server);
      await server.close();
    },
    { scope: 'file' },
  ],
  browser: [
    async ({ server }, use) => {
      const browser = await launchBrowser(server.url);
      await use(browser);
      await browser.close();
      expect(browser.problems).toEqual([]);
    },
    { scope: 'file' },
  ],
  startUploader: [
    async ({ server }, use) => {
      const started: { uploader: Uploader; directory: string }[] = [];
      await use(async (options = {}) => {
        const directory = await mkdtemp(join(tmpdir(), 'sluice-e2e-queue-'));
        const uploader = await createUploader({
          endpoint: server.url,
          apiKey: server.apiKey,
          directory,
          maxBatchDelayMs: 20,
          backoffBaseMs: 50,
          backoffMaxMs: 500,
          authRetryMs: 200,
          ...options,
        });
        started.push({ uploader, directory });
        return uploader;
      });
      for (const { uploader, directory } of started) {
        await uploader.close();
        await rm(directory, { recursive: true, force: true });
      }
    },
    { scope: 'file' },
  ],
  signedIn: async ({ server, browser }, use) => {
    await use(async (viewport = DESKTOP) => {
      const page = await browser.newPage(viewport);
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('Admin key').fill(adminKeyOf(server));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      return page;
    });
  },
});

export { describe, expect } from 'vitest';

/** Polls `check` every 50 ms until it returns a value other than `undefined`, for at most `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
