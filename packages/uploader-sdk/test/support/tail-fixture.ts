import type { TestServer } from '@sluice/ingest-api/testing';
import { test as base, expect } from 'vitest';
import type { Uploader } from '../../src/index.js';
import { Cleanup, openUploader, startServer, waitFor } from './harness.js';
import { storedLines, storedLineTexts } from './tail-harness.js';

/**
 * The tail tests' fixtures: `server`, the real ingest API on a fresh database, started once per file;
 * `cleanup`, run after each test, after which the source's items are deleted so that every test sees
 * only its own rows; `uploader`, an uploader on a fresh directory sending to `server`, closed by `cleanup`.
 */
export const test = base.extend<{ server: TestServer; cleanup: Cleanup; uploader: Uploader }>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from its first parameter.
    async ({}, use) => {
      const cleanup = new Cleanup();
      try {
        await use(await startServer(cleanup));
      } finally {
        await cleanup.run();
      }
    },
    { scope: 'file' },
  ],
  cleanup: async ({ server }, use) => {
    const cleanup = new Cleanup();
    try {
      await use(cleanup);
    } finally {
      await cleanup.run();
      await server.query('delete from items where source = $1', [server.source]);
    }
  },
  uploader: async ({ server, cleanup }, use) => {
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    await use(uploader);
  },
});

/**
 * Waits until at least as many tail records as `expected` are stored, gives anything extra (a line stored
 * twice under two ids) time to show up, then asserts the stored lines are exactly `expected`.
 */
export async function expectStoredExactly(
  server: TestServer,
  expected: readonly string[],
  timeoutMs = 20_000,
): Promise<void> {
  try {
    await waitFor(async () => (await storedLines(server)).length >= expected.length, timeoutMs);
  } catch (error) {
    const stored = new Set(await storedLineTexts(server));
    const missing = expected.filter((line) => !stored.has(line));
    throw new Error(
      `${stored.size} of ${expected.length} lines stored after ${timeoutMs} ms; missing ${missing.length}, e.g. ${JSON.stringify(missing.slice(0, 3))}`,
      { cause: error },
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await storedLineTexts(server)).toEqual([...expected].sort());
}
