import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';
import { countsOf, openUploader } from './support/harness.js';

describe('sluice CLI', () => {
  test('send uploads files as blobs and reports each one; status shows an empty queue afterwards', async ({
    server,
    dir,
    files,
  }) => {
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

  test('dead-letters lists what the running uploader dead-lettered, without taking its lock', async ({
    server,
    cleanup,
  }) => {
    const { uploader, directory } = await openUploader(cleanup, { endpoint: server.url });
    await uploader.enqueue({ id: 'cli-conflict', ts: 1, type: 't', data: 1 });
    await uploader.flush();
    await uploader.enqueue({ id: 'cli-conflict', ts: 1, type: 't', data: 2 });
    await uploader.flush();
    const listed = await sluice(['dead-letters', '--dir', directory]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\trecord\tcli-conflict\tconflict\tIDEMPOTENCY_CONFLICT: /);
    const json = await sluice(['dead-letters', '--dir', directory, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject([{ id: 'cli-conflict', item: { data: 2 } }]);
    const status = await sluice(['status', '--dir', directory]);
    expect(status.stdout).toMatch(new RegExp(`owner\\tin use by process ${process.pid}`));
    expect(status.stdout).toMatch(/records\t0 queued/);
    expect(status.stdout).toMatch(/dead letters\t1/);
  }, 30_000);

  test('dead-letters --requeue puts dead letters back for the next uploader and reports ids it could not', async ({
    server,
    cleanup,
  }) => {
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
    expect((await sluice(['dead-letters', '--dir', directory])).stdout).toBe('no dead letters\n');
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

  test('status <id> shows the server state of an item, exit 3 for an unknown id; usage errors exit 2', async ({
    server,
    cleanup,
  }) => {
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const { id } = await uploader.enqueue({ type: 't', data: 'x' });
    await uploader.flush();
    const shown = await sluice(['status', id, '--endpoint', server.url, '--key', 'test-key']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`"id":"${id}"`);
    expect(shown.stdout).toContain('"kind":"record"');
    const unknown = await sluice(['status', 'nope', '--endpoint', server.url, '--key', 'test-key']);
    expect(unknown.code).toBe(3);
    expect((await sluice(['send'])).code).toBe(2);
    expect((await sluice(['frobnicate'])).stderr).toContain('unknown command');
  }, 30_000);
});
