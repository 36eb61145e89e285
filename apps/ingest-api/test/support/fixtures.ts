import { test as base } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { S3Config } from '../../src/config.js';
import {
  type ConfigOverrides,
  createTestDatabase,
  startTestServer,
  type TestDatabase,
  type TestServer,
  testConfig,
} from '../../src/testing.js';
import { type S3TestServer, startS3Server } from './s3-server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * An app built by the `startApp` fixture, listening on port 0 of 127.0.0.1, with the key `test-key` of
 * source `test`. Unlike a {@link TestServer} it has no database of its own to drop.
 */
export interface TestApp extends Pick<TestServer, 'url' | 'app' | 'config' | 'apiKey' | 'source' | 'query'> {
  /** Closes the app; once, however often it is called (the fixture calls it again after the file). */
  close(): Promise<void>;
}

/** A {@link TcpProxy} in front of the file's `database`. */
export interface DatabaseProxy extends TcpProxy {
  /** The database's URL with host and port replaced by the proxy's. */
  readonly url: string;
}

/**
 * The `s3` setting of an app (ROLE=all) that uploads to `s3`'s bucket, with the store's defaults for
 * timeouts and attempts (unlike `s3.storeOptions()`, which shortens them for tests' own stores).
 */
export function appS3Config(s3: Pick<S3TestServer, 'storeOptions'>): S3Config {
  const options = s3.storeOptions();
  return {
    bucket: options.bucket,
    endpoint: options.endpoint,
    region: 'us-east-1',
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    forcePathStyle: true,
  };
}

/**
 * The API's test with its shared setup as fixtures; a test names what it needs:
 *
 * - `server`: the app listening on port 0 on a fresh database, started once per file on first use and
 *   closed (database dropped) after the file's last test. A file changes its config with
 *   `it.override({ serverOverrides })`.
 * - `startServer(overrides)`: one more such server, with its own config and its own fresh database, for
 *   files that need several; every one is closed after the file's last test.
 * - `serverAtDefaults`: `startServer()` once per file, for the tests of a file whose `server` is overridden.
 * - `database`: a fresh database (not migrated until an app opens it), dropped after the file.
 * - `databaseProxy`: a TCP proxy in front of `database` that a test can take down; closed after the file.
 * - `startApp(overrides)`: builds the app on `database` with `testConfig(database, overrides)` and listens;
 *   several apps may share the database. Each is closed after the file unless the test closed it.
 * - `s3`: an in-process S3-compatible server with one bucket, one per file, closed after the file.
 *
 * File fixtures are cleaned up in the reverse order they were set up; a fixture that puts something in
 * front of an app (a proxy) and must outlive it closes the app itself first (`TestApp.close` runs once).
 */
export const test = base
  .extend('serverOverrides', { scope: 'file' }, {} as ConfigOverrides)
  .extend('server', { scope: 'file' }, async ({ serverOverrides }, { onCleanup }): Promise<TestServer> => {
    const server = await startTestServer(serverOverrides);
    onCleanup(() => server.close());
    return server;
  })
  .extend(
    'startServer',
    { scope: 'file' },
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
    async ({}, { onCleanup }): Promise<(overrides?: ConfigOverrides) => Promise<TestServer>> => {
      const servers: TestServer[] = [];
      onCleanup(async () => {
        for (const server of servers.reverse()) await server.close();
      });
      return async (overrides = {}) => {
        const server = await startTestServer(overrides);
        servers.push(server);
        return server;
      };
    },
  )
  .extend('serverAtDefaults', { scope: 'file' }, ({ startServer }) => startServer())
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
  .extend('database', { scope: 'file' }, async ({}, { onCleanup }): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    onCleanup(() => db.drop());
    return db;
  })
  .extend('databaseProxy', { scope: 'file' }, async ({ database }, { onCleanup }): Promise<DatabaseProxy> => {
    const url = new URL(database.url ?? '');
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    onCleanup(() => proxy.close());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return Object.assign(proxy, { url: url.toString() });
  })
  .extend(
    'startApp',
    { scope: 'file' },
    async ({ database }, { onCleanup }): Promise<(overrides?: ConfigOverrides) => Promise<TestApp>> => {
      const apps: TestApp[] = [];
      onCleanup(async () => {
        for (const app of apps.reverse()) await app.close();
      });
      return async (overrides = {}) => {
        const config = testConfig(database, overrides);
        const app = await buildApp(config);
        let closed: Promise<void> | undefined;
        const started: TestApp = {
          url: '',
          app,
          config,
          apiKey: 'test-key',
          source: 'test',
          query: (sql, params) => app.db.query(sql, params),
          close() {
            closed ??= app.close();
            return closed;
          },
        };
        apps.push(started);
        return Object.assign(started, { url: await app.listen({ port: 0, host: '127.0.0.1' }) });
      };
    },
  )
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
  .extend('s3', { scope: 'file' }, async ({}, { onCleanup }): Promise<S3TestServer> => {
    const s3 = await startS3Server();
    onCleanup(() => s3.close());
    return s3;
  });

export { describe, expect } from 'vitest';
export { test as it };
