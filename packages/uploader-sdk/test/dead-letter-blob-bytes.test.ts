import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '@sluice/contracts';
import { startTestServer } from '@sluice/ingest-api/testing';
import { test as base, describe, expect } from './support/fixtures.js';

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
const it = base.extend('strict', { scope: 'file' }, async ({}, { onCleanup }) => {
  /** The same API refusing blobs over 1000 bytes (`ITEM_TOO_LARGE`, status `rejected`). */
  const strict = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxBlobBytes: 1000 } });
  onCleanup(() => strict.close());
  return strict;
});

/** Every file under `directory` whose content is `bytes`, relative to `directory`. */
async function filesHolding(directory: string, bytes: Buffer): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).equals(bytes)) found.push(path.slice(directory.length + 1));
  }
  return found;
}

describe('dead-lettered blobs', () => {
  it('keep their bytes when the server answers conflict', async ({ server, openUploader }) => {
    const first = await openUploader({ endpoint: server.url });
    await first.uploader.enqueueBlob({
      id: 'taken-blob',
      type: 'photo',
      body: randomBytes(3000),
      contentType: 'image/png',
    });
    await first.uploader.flush();

    const { uploader, directory } = await openUploader({ endpoint: server.url });
    const bytes = randomBytes(4000);
    await uploader.enqueueBlob({ id: 'taken-blob', type: 'photo', body: bytes, contentType: 'image/png' });
    await uploader.flush();

    const letters = await uploader.deadLetters();
    expect(letters).toMatchObject([
      {
        id: 'taken-blob',
        kind: 'blob',
        status: 'conflict',
        reason: { code: 'IDEMPOTENCY_CONFLICT' },
        item: { id: 'taken-blob', size: 4000, sha256: createHash('sha256').update(bytes).digest('hex') },
      },
    ]);
    const kept = await filesHolding(directory, bytes);
    expect(kept).toHaveLength(1);
    expect(kept).toEqual([join('dead-letters', 'blobs', letters[0]!.file!)]);
    // Kept bytes are no longer queued: they count against no quota and no sweep touches them.
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0, dead: 1 });
  });

  it('keep their bytes across a restart when the server rejects them', async ({ openUploader, strict }) => {
    const offline = await openUploader({ endpoint: 'http://127.0.0.1:1' });
    const bytes = randomBytes(5000);
    const { id } = await offline.uploader.enqueueBlob({
      type: 'photo',
      body: bytes,
      contentType: 'application/octet-stream',
    });
    await offline.uploader.close();

    const { uploader, directory } = await openUploader({
      endpoint: strict.url,
      directory: offline.directory,
    });
    await uploader.flush();
    await uploader.close();

    const reopened = await openUploader({ endpoint: 'http://127.0.0.1:1', directory });
    const letters = await reopened.uploader.deadLetters();
    expect(letters).toMatchObject([
      { id, kind: 'blob', status: 'rejected', reason: { code: 'ITEM_TOO_LARGE' } },
    ]);
    const kept = await filesHolding(directory, bytes);
    expect(kept).toHaveLength(1);
    expect(kept).toEqual([join('dead-letters', 'blobs', letters[0]!.file!)]);
  });
});
