import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { blobRequestTimeoutMs } from '../src/transport.js';
import type { FaultProxy } from './support/fault-proxy.js';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, notStoredOnce } from './support/harness.js';

// Requests abandoned mid-body are logged by the server as warnings; they are the point here.
it.override({ serverOverrides: { logLevel: 'error' } });

const MiB = 1024 * 1024;

/** Makes `faults` pass blob uploads at `bytesPerSecond`. */
function slowUplink(faults: FaultProxy, bytesPerSecond: number): void {
  faults.decide = (request) =>
    request.url === '/v1/blobs' ? { kind: 'forward', bytesPerSecond } : { kind: 'forward' };
}

describe('blob request timeouts scale with size', () => {
  it('gives a blob request the base timeout plus its bytes at the minimum throughput; records keep the base', () => {
    const options = { requestTimeoutMs: 30_000, minUploadBytesPerSecond: 64 * 1024 };
    expect(blobRequestTimeoutMs(0, options)).toBe(30_000);
    expect(blobRequestTimeoutMs(64 * MiB, options)).toBe(30_000 + 1024 * 1000);
    expect(blobRequestTimeoutMs(2 ** 60, options)).toBe(2 ** 31 - 1);
  });

  it('delivers a blob that takes several base timeouts to upload on a slow uplink', async ({
    server,
    openUploader,
    faults,
  }) => {
    slowUplink(faults, MiB);
    const { uploader } = await openUploader({
      endpoint: faults.url,
      requestTimeoutMs: 1000,
      minUploadBytesPerSecond: 512 * 1024,
    });
    const { id } = await uploader.enqueueBlob({
      type: 'video',
      body: randomBytes(3 * MiB),
      contentType: 'video/mp4',
    });
    expect(await uploader.flush({ timeoutMs: 20_000 })).toMatchObject({ complete: true, delivered: 1 });
    expect(await countsOf(server, [id])).toEqual([1]);
  });

  it('splits a timed-out blob request down to single blobs: the small ones go through, the huge one waits alone', async ({
    server,
    openUploader,
    faults,
  }) => {
    const unreachable = 'http://127.0.0.1:9';
    // Queue the three while nothing answers, so that the next start reads them into one request.
    const offline = await openUploader({ endpoint: unreachable });
    const huge = await offline.uploader.enqueueBlob({
      type: 'video',
      body: randomBytes(3 * MiB),
      contentType: 'video/mp4',
    });
    const small = [
      await offline.uploader.enqueueBlob({
        type: 'shot',
        body: randomBytes(10_000),
        contentType: 'image/png',
      }),
      await offline.uploader.enqueueBlob({
        type: 'shot',
        body: randomBytes(20_000),
        contentType: 'image/png',
      }),
    ];
    await offline.uploader.close();

    slowUplink(faults, 256 * 1024);
    const { uploader } = await openUploader({
      endpoint: faults.url,
      directory: offline.directory,
      requestTimeoutMs: 1500,
      // The scaled part is negligible: 3 MiB at 256 KiB/s needs 12 s, far beyond its 1.5 s.
      minUploadBytesPerSecond: 100 * MiB,
    });
    const result = await uploader.flush({ timeoutMs: 6000 });
    expect(result).toMatchObject({ complete: false, delivered: 2, dead: 0, queued: 1 });
    expect(
      await notStoredOnce(
        server,
        small.map((blob) => blob.id),
      ),
    ).toEqual([]);
    expect(await countsOf(server, [huge.id])).toEqual([0]);
    expect(await readdir(join(offline.directory, 'blob-data'))).toHaveLength(1);

    faults.decide = () => ({ kind: 'forward' });
    expect(await uploader.flush({ timeoutMs: 20_000 })).toMatchObject({ complete: true, queued: 0 });
    expect(await countsOf(server, [huge.id])).toEqual([1]);
  });

  it('lets other blobs through while more blobs than it has slots for keep timing out on their own retries', async ({
    server,
    openUploader,
    faults,
  }) => {
    // Four blobs too big for this link, queued while nothing answers: one request, timed out, then split
    // into four singles that each time out again, as many as the lane holds batches (2 × blobConcurrency).
    const unreachable = 'http://127.0.0.1:9';
    const offline = await openUploader({ endpoint: unreachable });
    const huge: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      huge.push(
        (
          await offline.uploader.enqueueBlob({
            type: 'video',
            body: randomBytes(3 * MiB),
            contentType: 'video/mp4',
          })
        ).id,
      );
    }
    await offline.uploader.close();

    slowUplink(faults, 256 * 1024);
    const { uploader } = await openUploader({
      endpoint: faults.url,
      directory: offline.directory,
      requestTimeoutMs: 1000,
      minUploadBytesPerSecond: 100 * MiB,
    });
    // Past the first timeout and the split.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const small: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      small.push(
        (await uploader.enqueueBlob({ type: 'shot', body: randomBytes(2000), contentType: 'image/png' })).id,
      );
    }
    const result = await uploader.flush({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ complete: false, dead: 0, queued: 4 });
    expect(await notStoredOnce(server, small)).toEqual([]);
    expect(await countsOf(server, huge)).toEqual([0, 0, 0, 0]);
  });
});
