import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, countsOf, openUploader, tempDirectory } from './support/harness.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

let server: TestServer;
const cleanup = new Cleanup();
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => cleanup.run());

async function sluice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: packageRoot,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('sluice CLI', () => {
  it('send uploads files as blobs and reports each one; status shows an empty queue afterwards', async () => {
    const files = await tempDirectory();
    const dir = await tempDirectory();
    const a = join(files, 'a.png');
    const b = join(files, 'notes.txt');
    await writeFile(a, Buffer.alloc(5000, 1));
    await writeFile(b, 'hello');
    const sent = await sluice(['send', a, b, '--endpoint', server.url, '--key', 'test-key', '--dir', dir]);
    expect(sent.code).toBe(0);
    const ids = sent.stdout
      .split('\n')
      .filter((line) => line.startsWith('stored\t'))
      .map((line) => line.split('\t')[1]!);
    expect(ids).toHaveLength(2);
    expect(await countsOf(server, ids)).toEqual([1, 1]);
    expect(sent.stdout).toContain('2 delivered, 0 dead');

    const status = await sluice(['status', '--dir', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/records\t0 queued/);
    expect(status.stdout).toMatch(/blobs\t0 queued/);
    expect(status.stdout).toMatch(/dead letters\t0/);
  }, 30_000);

  it('dead-letters lists what the running uploader dead-lettered, without taking its lock', async () => {
    const { uploader, directory } = await openUploader(cleanup, { endpoint: server.url });
    await uploader.enqueue({ id: 'cli-conflict', ts: 1, type: 't', data: 1 });
    await uploader.flush();
    await uploader.enqueue({ id: 'cli-conflict', ts: 1, type: 't', data: 2 });
    await uploader.flush();
    const listed = await sluice(['dead-letters', '--dir', directory]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\trecord\tcli-conflict\tconflict\tIDEMPOTENCY_CONFLICT: /);
    const json = await sluice(['dead-letters', '--dir', directory, '--json']);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ id: 'cli-conflict', item: { data: 2 } });
    const status = await sluice(['status', '--dir', directory]);
    expect(status.stdout).toMatch(new RegExp(`records\\tin use by process ${process.pid}`));
    expect(status.stdout).toMatch(/dead letters\t1/);
  }, 30_000);

  it('dead-letters --requeue puts dead letters back for the next uploader and reports ids it could not', async () => {
    const { uploader, directory } = await openUploader(cleanup, { endpoint: server.url });
    await uploader.enqueue({ id: 'cli-requeue', ts: 1, type: 't', data: 1 });
    await uploader.flush();
    await uploader.enqueue({ id: 'cli-requeue', ts: 1, type: 't', data: 2 });
    await uploader.flush();

    const busy = await sluice(['dead-letters', '--requeue', '--dir', directory]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`in use by process ${process.pid}`);
    await uploader.close();

    const partial = await sluice([
      'dead-letters',
      '--requeue',
      'cli-requeue',
      'no-such-id',
      '--dir',
      directory,
    ]);
    expect(partial.code).toBe(3);
    expect(partial.stdout).toContain('requeued\tcli-requeue\n');
    expect(partial.stdout).toContain('missing\tno-such-id\n');
    expect(partial.stdout).toMatch(/^1 requeued, 1 missing, 0 unavailable\b/m);
    expect((await sluice(['dead-letters', '--dir', directory])).stdout).toBe('');
    const nothing = await sluice(['dead-letters', '--requeue', '--dir', directory]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/^0 requeued, 0 missing, 0 unavailable\b/m);

    // The item was meant for the other source, where its id is free: the next uploader delivers it.
    const next = await openUploader(cleanup, { endpoint: server.url, directory, apiKey: 'other-key' });
    await next.uploader.flush();
    const rows = await server.query<{ source: string; data: unknown }>(
      'select source, data from items where id = $1 order by source',
      ['cli-requeue'],
    );
    expect(rows).toEqual([
      { source: 'other', data: 2 },
      { source: 'test', data: 1 },
    ]);
    expect((await sluice(['dead-letters', '--requeue', '--limit', '1', '--dir', directory])).code).toBe(2);
  }, 30_000);

  it('status <id> shows the server state of an item; usage errors exit 2', async () => {
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const { id } = await uploader.enqueue({ type: 't', data: 'x' });
    await uploader.flush();
    const shown = await sluice(['status', id, '--endpoint', server.url, '--key', 'test-key']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`"id":"${id}"`);
    expect(shown.stdout).toContain('"kind":"record"');
    const unknown = await sluice(['status', 'nope', '--endpoint', server.url, '--key', 'test-key']);
    expect(unknown.code).toBe(1);
    expect((await sluice(['send'])).code).toBe(2);
    expect((await sluice(['frobnicate'])).stderr).toContain('unknown command');
  }, 30_000);
});
