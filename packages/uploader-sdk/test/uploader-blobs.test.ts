import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import { isQueueFullError } from '../src/index.js';
import { errorAnswer } from './support/fault-proxy.js';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, notStoredOnce, tempDirectory, waitFor } from './support/harness.js';

async function itemStatus(server: TestServer, id: string) {
  const response = await fetch(`${server.url}/v1/items/${id}`, {
    headers: { authorization: 'Bearer test-key' },
  });
  return (await response.json()) as {
    kind: string;
    blob?: { size: number; sha256: string; contentType: string };
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('blobs', () => {
  it('delivers blobs from bytes and from files, interleaved with records, each exactly once and intact', async ({
    server,
    openUploader,
  }) => {
    const { uploader, directory } = await openUploader({ endpoint: server.url });
    const source = await tempDirectory();
    const blobs: { id: string; bytes: Buffer }[] = [];
    const records: string[] = [];
    for (let i = 0; i < 12; i++) {
      const bytes = randomBytes(1000 + i * 5000);
      let id: string;
      if (i % 2 === 0) {
        ({ id } = await uploader.enqueueBlob({
          type: 'photo',
          body: bytes,
          contentType: 'image/png',
          meta: { i },
        }));
      } else {
        const path = join(source, `file-${i}.bin`);
        await writeFile(path, bytes);
        ({ id } = await uploader.enqueueBlob({
          type: 'photo',
          body: path,
          contentType: 'application/octet-stream',
        }));
      }
      blobs.push({ id, bytes });
      for (let r = 0; r < 20; r++)
        records.push((await uploader.enqueue({ type: 'click', data: { i, r } })).id);
    }
    await uploader.flush();
    expect(await notStoredOnce(server, records)).toEqual([]);
    expect(
      await notStoredOnce(
        server,
        blobs.map((blob) => blob.id),
      ),
    ).toEqual([]);
    for (const blob of blobs) {
      const status = await itemStatus(server, blob.id);
      expect(status.kind).toBe('blob');
      expect(status.blob).toMatchObject({ size: blob.bytes.byteLength, sha256: sha256(blob.bytes) });
    }
    // The queued copies are gone once acknowledged.
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0, delivered: 12 * 21 });
  });

  it('keeps delivering records while blobs cannot get through', async ({ server, openUploader, faults }) => {
    faults.decide = (request) =>
      request.url === '/v1/blobs'
        ? errorAnswer(503, 'UNAVAILABLE', { 'retry-after': '60' })
        : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url });
    const blob = await uploader.enqueueBlob({
      type: 'video',
      body: randomBytes(200_000),
      contentType: 'video/mp4',
    });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await uploader.enqueue({ type: 'click', data: i })).id);
    await waitFor(async () => (await countsOf(server, ids)).every((count) => count === 1));
    // Rows commit before the uploader has read the answers; wait for the records to be acknowledged.
    await waitFor(() => uploader.stats().queued === 1);
    expect(await countsOf(server, [blob.id])).toEqual([0]);
    expect(uploader.stats()).toMatchObject({ queuedBlobs: 1, queued: 1 });
  });

  it('refuses a blob over the blob quota without writing it, and accepts one that fits', async ({
    openUploader,
  }) => {
    const { uploader, directory } = await openUploader({
      endpoint: 'http://127.0.0.1:1',
      maxBlobQueueBytes: 10_000,
    });
    await uploader.enqueueBlob({ type: 'a', body: randomBytes(6000), contentType: 'image/png' });
    const error = await uploader
      .enqueueBlob({ type: 'a', body: randomBytes(6000), contentType: 'image/png' })
      .catch((e: unknown) => e);
    expect(isQueueFullError(error)).toBe(true);
    expect(await readdir(join(directory, 'blob-data'))).toHaveLength(1);
    expect(uploader.stats()).toMatchObject({ queuedBlobs: 1, queuedBytes: 6000 });
    await uploader.enqueueBlob({ type: 'a', body: randomBytes(3000), contentType: 'image/png' });
    expect(uploader.stats().queuedBlobs).toBe(2);
  });

  it('removes a copy left by a crash before its queue entry was written, and keeps the queued ones', async ({
    server,
    openUploader,
  }) => {
    const first = await openUploader({ endpoint: 'http://127.0.0.1:1' });
    const queued = await first.uploader.enqueueBlob({
      type: 'a',
      body: randomBytes(500),
      contentType: 'image/png',
    });
    await first.uploader.close();
    await writeFile(join(first.directory, 'blob-data', 'orphan.abc'), randomBytes(700));
    await writeFile(join(first.directory, 'blob-data', 'torn.abc.partial'), randomBytes(300));

    const again = await openUploader({ endpoint: server.url, directory: first.directory });
    expect(again.uploader.stats()).toMatchObject({ queuedBlobs: 1 });
    await again.uploader.flush();
    expect(await countsOf(server, [queued.id])).toEqual([1]);
    expect(await readdir(join(first.directory, 'blob-data'))).toEqual([]);
    expect(again.uploader.stats().queuedBytes).toBe(0);
  });

  it('refuses invalid blobs at enqueue', async ({ openUploader }) => {
    const { uploader } = await openUploader({ endpoint: 'http://127.0.0.1:1' });
    await expect(
      uploader.enqueueBlob({ type: 'a', body: Buffer.from('x'), contentType: 'png' }),
    ).rejects.toThrow(/`contentType`/);
    await expect(
      uploader.enqueueBlob({ type: 'a', body: 42 as never, contentType: 'image/png' }),
    ).rejects.toThrow(/`body`/);
    await expect(
      uploader.enqueueBlob({ type: 'a', body: '/no/such/file', contentType: 'image/png' }),
    ).rejects.toThrow(/ENOENT/);
    await expect(
      uploader.enqueueBlob({
        type: 'a',
        body: Buffer.from('x'),
        contentType: 'image/png',
        meta: { big: 'm'.repeat(5000) },
      }),
    ).rejects.toThrow(RangeError);
    expect(uploader.stats().queued).toBe(0);
  });
});
