import { errorAnswer } from './support/fault-proxy.js';
import { describe, expect, it } from './support/fixtures.js';
import { enqueueMany, notStoredOnce } from './support/harness.js';

describe('flush({ timeoutMs })', () => {
  it('resolves after the timeout with what it delivered; the rest stays queued and goes out after a restart', async ({
    server,
    openUploader,
    faults,
  }) => {
    let batches = 0;
    faults.decide = (request) =>
      request.url === '/v1/batch' && ++batches > 2
        ? errorAnswer(503, 'UNAVAILABLE', { 'retry-after': '1' })
        : { kind: 'forward' };
    const first = await openUploader({
      endpoint: faults.url,
      maxBatchItems: 50,
      maxConcurrency: 1,
    });
    const ids = await enqueueMany(first.uploader, 200);
    const startedAt = performance.now();
    const result = await first.uploader.flush({ timeoutMs: 1500 });
    const waited = performance.now() - startedAt;
    expect(result).toEqual({
      complete: false,
      timedOut: true,
      closed: false,
      delivered: 100,
      dead: 0,
      queued: 100,
    });
    expect(waited).toBeGreaterThanOrEqual(1490);
    expect(waited).toBeLessThan(3000);
    await first.uploader.close();

    faults.decide = () => ({ kind: 'forward' });
    const second = await openUploader({ endpoint: faults.url, directory: first.directory });
    expect(await second.uploader.flush({ timeoutMs: 20_000 })).toEqual({
      complete: true,
      timedOut: false,
      closed: false,
      delivered: 100,
      dead: 0,
      queued: 0,
    });
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });

  it('resolves complete at once when nothing is queued, and refuses a bad timeout naming it', async ({
    server,
    openUploader,
  }) => {
    const { uploader } = await openUploader({ endpoint: server.url });
    expect(await uploader.flush({ timeoutMs: 0 })).toMatchObject({
      complete: true,
      timedOut: false,
      queued: 0,
    });
    await expect(uploader.flush({ timeoutMs: -1 })).rejects.toThrow(/`timeoutMs`/);
    await expect(uploader.flush({ timeoutMs: 2 ** 31 })).rejects.toThrow(TypeError);
  });
});
