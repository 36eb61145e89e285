import { rm } from 'node:fs/promises';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { test as base } from 'vitest';
import type { Uploader, UploaderOptions } from '../../src/index.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { Cleanup, openUploader, startServer, tempDirectory } from './harness.js';

/** What `startTestServer` takes: limits, log level, rate limit… */
export type ServerOverrides = NonNullable<Parameters<typeof startTestServer>[0]>;

/** The `openUploader` fixture: an uploader closed, and its temp directory removed, after the test. */
export type OpenUploader = (
  options: Partial<UploaderOptions> & Pick<UploaderOptions, 'endpoint'>,
) => Promise<{ uploader: Uploader; directory: string }>;

/**
 * The SDK's test with its shared setup as fixtures; a test names what it needs:
 *
 * - `server`: the real ingest API on a fresh database, started once per file on first use and closed
 *   after the file's last test. A file changes its config with `test.override({ serverOverrides })`.
 * - `cleanup`: a fresh {@link Cleanup} run after each test.
 * - `openUploader(options)`: an uploader on a new temp directory (or `options.directory`), closed and
 *   the directory removed after the test.
 * - `faults`: a fault proxy in front of `server`, closed after the test (after the test's uploaders).
 * - `startServer(overrides?)`: a server of the test's own on a fresh database, closed after the test.
 * - `tempDir(prefix?)`: a new temp directory, removed after the test.
 */
export const test = base
  .extend('serverOverrides', { scope: 'file' }, {} as ServerOverrides)
  .extend('server', { scope: 'file' }, async ({ serverOverrides }, { onCleanup }): Promise<TestServer> => {
    const server = await startTestServer(serverOverrides);
    onCleanup(() => server.close());
    return server;
  })
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
  .extend('cleanup', async ({}, { onCleanup }) => {
    const cleanup = new Cleanup();
    onCleanup(() => cleanup.run());
    return cleanup;
  })
  .extend(
    'openUploader',
    ({ cleanup }): OpenUploader =>
      (options) =>
        openUploader(cleanup, options),
  )
  .extend(
    'startServer',
    ({ cleanup }) =>
      (overrides?: ServerOverrides): Promise<TestServer> =>
        startServer(cleanup, overrides),
  )
  .extend('faults', async ({ server, cleanup }): Promise<FaultProxy> => {
    const faults = await startFaultProxy(server.url);
    cleanup.add(() => faults.close());
    return faults;
  })
  .extend('tempDir', ({ cleanup }) => async (prefix?: string): Promise<string> => {
    const directory = await tempDirectory(prefix);
    cleanup.add(() => rm(directory, { recursive: true, force: true }));
    return directory;
  });

export { describe, expect } from 'vitest';
export { test as it };
