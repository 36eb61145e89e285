import { rm } from 'node:fs/promises';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { test } from 'vitest';
import { Cleanup, tempDirectory } from './harness.js';

/** Fixtures of the CLI tests. */
export interface CliFixtures {
  /** The real ingest API on a fresh database, one per test file. */
  readonly server: TestServer;
  /** A fresh uploader directory (`--dir`), removed after the test. */
  readonly dir: string;
  /** A fresh directory for input files, removed after the test. */
  readonly files: string;
  /** Steps run after the test, last added first (closing uploaders opened with `openUploader`). */
  readonly cleanup: Cleanup;
}

async function scratch(use: (directory: string) => Promise<void>): Promise<void> {
  const directory = await tempDirectory('sluice-cli-');
  try {
    await use(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** `test` with the {@link CliFixtures}. */
export const cliTest = test.extend<CliFixtures>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern.
    async ({}, use) => {
      const server = await startTestServer();
      try {
        await use(server);
      } finally {
        await server.close();
      }
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  dir: async ({}, use) => scratch(use),
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  files: async ({}, use) => scratch(use),
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  cleanup: async ({}, use) => {
    const cleanup = new Cleanup();
    try {
      await use(cleanup);
    } finally {
      await cleanup.run();
    }
  },
});
