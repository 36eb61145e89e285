import { describe, expect } from 'vitest';
import { QueueRoom } from '../src/cli/queue-room.js';
import { isQueueFullError } from '../src/index.js';
import { cliTest as test } from './support/cli-fixtures.js';
import { countsOf, openUploader } from './support/harness.js';

describe('QueueRoom (how sluice send queues more than the quota holds)', () => {
  test('blobs beyond the blob quota wait for deliveries to make room and all arrive once; one larger than the quota is refused', async ({
    server,
    cleanup,
  }) => {
    const { uploader } = await openUploader(cleanup, { endpoint: server.url, maxBlobQueueBytes: 10_000 });
    const room = new QueueRoom(() => uploader.stats().queued);
    uploader.on('delivered', () => room.wake());
    uploader.on('dead', () => room.wake());
    let waits = 0;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const queued = await room.enqueue(
        () =>
          uploader.enqueueBlob({
            type: 'chunk',
            body: Buffer.alloc(4000, i),
            contentType: 'application/octet-stream',
          }),
        () => {
          waits += 1;
        },
      );
      ids.push(queued!.id);
    }
    expect(waits).toBeGreaterThan(0);
    await uploader.flush();
    expect(await countsOf(server, ids)).toEqual(ids.map(() => 1));

    await expect(
      room.enqueue(() =>
        uploader.enqueueBlob({ type: 'chunk', body: Buffer.alloc(20_000), contentType: 'text/plain' }),
      ),
    ).rejects.toSatisfy(isQueueFullError);
  }, 60_000);

  test('close ends a wait for room with undefined and runs nothing after it', async ({ cleanup }) => {
    const { uploader } = await openUploader(cleanup, {
      endpoint: 'http://127.0.0.1:1',
      maxBlobQueueBytes: 10_000,
    });
    const room = new QueueRoom(() => uploader.stats().queued);
    const blob = () =>
      uploader.enqueueBlob({ type: 'chunk', body: Buffer.alloc(4000), contentType: 'text/plain' });
    await room.enqueue(blob);
    await room.enqueue(blob);
    let full = false;
    const waiting = room.enqueue(blob, () => {
      full = true;
    });
    await expect.poll(() => full).toBe(true);
    room.close();
    await expect(waiting).resolves.toBeUndefined();
    let ran = false;
    await expect(
      room.enqueue(async () => {
        ran = true;
      }),
    ).resolves.toBeUndefined();
    expect(ran).toBe(false);
    expect(uploader.stats().queued).toBe(2);
  }, 30_000);
});
