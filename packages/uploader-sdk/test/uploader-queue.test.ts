import { createUploader, isQueueFullError, isQueueLockedError } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, notStoredOnce } from './support/harness.js';

const offline = 'http://127.0.0.1:1';

describe('queue quota and ownership', () => {
  it("whenFull 'reject' refuses with QueueFullError and keeps everything accepted before", async ({
    server,
    openUploader,
  }) => {
    const { uploader, directory } = await openUploader({ endpoint: offline, maxQueueBytes: 4000 });
    const accepted: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        accepted.push((await uploader.enqueue({ type: 'full', data: { i, pad: 'x'.repeat(50) } })).id);
      } catch (error) {
        refusal = error;
      }
    }
    expect(isQueueFullError(refusal)).toBe(true);
    expect(accepted.length).toBeGreaterThan(10);
    expect(uploader.stats()).toMatchObject({ queued: accepted.length, dropped: 0 });
    expect(uploader.stats().queuedBytes).toBeLessThanOrEqual(4000);
    await uploader.close();

    const online = await openUploader({ endpoint: server.url, directory });
    await online.uploader.flush();
    expect(await notStoredOnce(server, accepted)).toEqual([]);
  });

  it("whenFull 'drop-oldest' makes room by dropping the oldest and delivers the newest", async ({
    server,
    openUploader,
  }) => {
    const { uploader, directory } = await openUploader({
      endpoint: offline,
      maxQueueBytes: 4000,
      whenFull: 'drop-oldest',
    });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++)
      ids.push((await uploader.enqueue({ type: 'drop', data: { i, pad: 'x'.repeat(50) } })).id);
    const stats = uploader.stats();
    expect(stats.dropped).toBeGreaterThan(100);
    expect(stats.queued).toBe(200 - stats.dropped);
    await uploader.close();

    const online = await openUploader({ endpoint: server.url, directory, whenFull: 'drop-oldest' });
    await online.uploader.flush();
    const counts = await countsOf(server, ids);
    const kept = 200 - stats.dropped;
    expect(counts.slice(200 - kept).every((count) => count === 1)).toBe(true);
    expect(counts.slice(0, 200 - kept).every((count) => count === 0)).toBe(true);
  });

  it('a second uploader on the same directory gets a clear error, and the first keeps working', async ({
    server,
    openUploader,
  }) => {
    const first = await openUploader({ endpoint: server.url });
    const error = await createUploader({
      endpoint: server.url,
      apiKey: 'test-key',
      directory: first.directory,
    }).catch((e: unknown) => e);
    expect(isQueueLockedError(error)).toBe(true);
    expect(String((error as Error).message)).toContain(first.directory);
    const { id } = await first.uploader.enqueue({ type: 'still', data: 1 });
    await first.uploader.flush();
    expect(await countsOf(server, [id])).toEqual([1]);
  });
});
