import { test as base } from 'vitest';
import { type ConfigOverrides, startTestServer, type TestServer } from '../../src/testing.js';
import { type S3TestServer, startS3Server } from './s3-server.js';

/**
 * The API's test with its shared setup as fixtures; a test names what it needs:
 *
 * - `server`: the app listening on port 0 on a fresh database, started once per file on first use and
 *   closed (database dropped) after the file's last test. A file changes its config with
 *   `it.override({ serverOverrides })`.
 * - `s3`: an in-process S3-compatible server with one bucket, one per file, closed after the file.
 */
export const test = base
  .extend('serverOverrides', { scope: 'file' }, {} as ConfigOverrides)
  .extend('server', { scope: 'file' }, async ({ serverOverrides }, { onCleanup }): Promise<TestServer> => {
    const server = await startTestServer(serverOverrides);
    onCleanup(() => server.close());
    return server;
  })
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
  .extend('s3', { scope: 'file' }, async ({}, { onCleanup }): Promise<S3TestServer> => {
    const s3 = await startS3Server();
    onCleanup(() => s3.close());
    return s3;
  });

export { describe, expect } from 'vitest';
export { test as it };
