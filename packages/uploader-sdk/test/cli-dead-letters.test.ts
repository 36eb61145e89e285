import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { createUploader, type Uploader } from '../src/index.js';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';

/** Makes `id` a dead letter: stored with one content, then sent again with another (a conflict). */
async function conflict(uploader: Uploader, id: string, blob = false): Promise<void> {
  if (blob) {
    await uploader.enqueueBlob({ id, ts: 1, type: 't', body: Buffer.from('one'), contentType: 'text/plain' });
    await uploader.flush();
    await uploader.enqueueBlob({ id, ts: 1, type: 't', body: Buffer.from('two'), contentType: 'text/plain' });
  } else {
    await uploader.enqueue({ id, ts: 1, type: 't', data: 1 });
    await uploader.flush();
    await uploader.enqueue({ id, ts: 1, type: 't', data: 2 });
  }
  await uploader.flush();
}

describe('sluice dead-letters', () => {
  test('says so when there are none; --json prints an empty array', async ({ dir }) => {
    const [listed, json] = await Promise.all([
      sluice(['dead-letters', '--dir', dir]),
      sluice(['dead-letters', '--json', '--dir', dir]),
    ]);
    expect(listed).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
    expect(json).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  test('--requeue and --purge on a DIR that holds no uploader (a typo) fail (exit 1) and create nothing', async ({
    dir,
  }) => {
    const typo = join(dir, 'no-such-queue');
    const [requeued, purged] = await Promise.all([
      sluice(['dead-letters', '--requeue', '--dir', typo]),
      sluice(['dead-letters', '--purge', '--yes', '--dir', `${typo}-2`]),
    ]);
    for (const [result, path] of [
      [requeued, typo],
      [purged, `${typo}-2`],
    ] as const) {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`${path} holds no uploader directory`);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  test('--purge deletes the named letters and their kept bytes, --purge --yes all of them; never while an uploader owns DIR', async ({
    server,
    dir,
  }) => {
    const uploader = await createUploader({
      endpoint: server.url,
      apiKey: 'test-key',
      directory: dir,
      maxBatchDelayMs: 20,
    });
    try {
      await conflict(uploader, 'dl-record-1');
      await conflict(uploader, 'dl-record-2');
      await conflict(uploader, 'dl-blob', true);
      expect(await readdir(join(dir, 'dead-letters', 'blobs'))).toHaveLength(1);
      const busy = await sluice(['dead-letters', '--purge', 'dl-record-1', '--dir', dir]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`in use by process ${process.pid}`);
    } finally {
      await uploader.close();
    }

    const json = await sluice(['dead-letters', '--json', '--dir', dir]);
    expect((JSON.parse(json.stdout) as { id: string }[]).map((letter) => letter.id)).toEqual([
      'dl-record-1',
      'dl-record-2',
      'dl-blob',
    ]);

    const unconfirmed = await sluice(['dead-letters', '--purge', '--dir', dir]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('add --yes');

    const some = await sluice(['dead-letters', '--purge', 'dl-blob', 'no-such-id', '--dir', dir]);
    expect(some.code).toBe(3);
    expect(some.stdout).toBe('purged\tdl-blob\nmissing\tno-such-id\n1 purged, 1 missing\n');
    expect(await readdir(join(dir, 'dead-letters', 'blobs'))).toEqual([]);

    const all = await sluice(['dead-letters', '--purge', '--yes', '--json', '--dir', dir]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({ purged: ['dl-record-1', 'dl-record-2'], missing: [] });
    expect((await sluice(['dead-letters', '--dir', dir])).stdout).toBe('no dead letters\n');
    expect((await sluice(['status', '--dir', dir])).stdout).toContain('dead letters\t0\n');
  }, 60_000);
});
