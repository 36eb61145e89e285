import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { createUploader, type Uploader, type UploaderOptions } from '../../src/index.js';

/** A temp directory removed by `cleanup`. */
export async function tempDirectory(prefix = 'sluice-uploader-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Closes uploaders and servers and removes directories registered during a test. */
export class Cleanup {
  readonly #steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step();
  }
}

/** Starts the real ingest API on a fresh database. */
export async function startServer(
  cleanup: Cleanup,
  overrides?: Parameters<typeof startTestServer>[0],
): Promise<TestServer> {
  const server = await startTestServer(overrides);
  cleanup.add(() => server.close());
  return server;
}

/** Creates an uploader on a new temp directory (or `directory`) that is closed and removed by `cleanup`. */
export async function openUploader(
  cleanup: Cleanup,
  options: Partial<UploaderOptions> & Pick<UploaderOptions, 'endpoint'>,
): Promise<{ uploader: Uploader; directory: string }> {
  const directory = options.directory ?? (await tempDirectory());
  if (options.directory === undefined) cleanup.add(() => rm(directory, { recursive: true, force: true }));
  const uploader = await createUploader({
    apiKey: 'test-key',
    maxBatchDelayMs: 20,
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    ...options,
    directory,
  });
  cleanup.add(() => uploader.close());
  return { uploader, directory };
}

/** Ids of the source's items in the database with how often each appears. */
export async function storedIds(server: TestServer, kind = 'record'): Promise<Map<string, number>> {
  const rows = await server.query<{ id: string; n: number | string }>(
    'select id, count(*) as n from items where source = $1 and kind = $2 group by id',
    [server.source, kind],
  );
  return new Map(rows.map((row) => [row.id, Number(row.n)]));
}

/** Resolves when `condition` holds, polling every 10 ms; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How often each of `ids` is stored for the server's source (0 when missing). */
export async function countsOf(server: TestServer, ids: readonly string[]): Promise<number[]> {
  const rows = await server.query<{ id: string; n: number | string }>(
    'select id, count(*) as n from items where source = $1 and id = any($2) group by id',
    [server.source, ids],
  );
  const counts = new Map(rows.map((row) => [row.id, Number(row.n)]));
  return ids.map((id) => counts.get(id) ?? 0);
}

/** The ids among `ids` that are not stored exactly once, with their count: `[]` when all are. */
export async function notStoredOnce(server: TestServer, ids: readonly string[]): Promise<string[]> {
  const counts = await countsOf(server, ids);
  return ids.flatMap((id, index) => (counts[index] === 1 ? [] : [`${id} stored ${counts[index]} times`]));
}

/** Enqueues `count` records of about `size` bytes of data at once; resolves with their ids. */
export async function enqueueMany(uploader: Uploader, count: number, size = 40): Promise<string[]> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      uploader.enqueue({ type: 'fault', data: { i, pad: 'p'.repeat(size) } }),
    ),
  );
  return results.map((result) => result.id);
}
