import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { blobItemHash, recordHash } from '@sluice/contracts';
import type { TestServer } from '@sluice/ingest-api/testing';
import type { DeliveredEvent, Uploader } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Rows of `ids` in the database, per source, with what identifies their content. */
async function rowsOf(server: TestServer, ids: readonly string[]) {
  return server.query<{ source: string; id: string; ts: string; kind: string; hash: string; data: unknown }>(
    'select source, id, ts::text as ts, kind, hash, data from items where id = any($1) order by source, id',
    [ids],
  );
}

/**
 * Dead-letters record `<prefix>-record` and blob `<prefix>-blob` under source `test`, where `taker`
 * already stored other content with these ids. Returns the dead blob's bytes.
 */
async function deadLetterTwo(uploader: Uploader, taker: Uploader, prefix: string) {
  const record = `${prefix}-record`;
  const blob = `${prefix}-blob`;
  await taker.enqueue({ id: record, ts: 1, type: 't', data: 'first' });
  await taker.enqueueBlob({ id: blob, ts: 2, type: 'b', body: randomBytes(100), contentType: 'image/png' });
  await taker.flush();
  const bytes = randomBytes(6000);
  await uploader.enqueue({ id: record, ts: 1, type: 't', data: { second: true } });
  await uploader.enqueueBlob({ id: blob, ts: 2, type: 'b', body: bytes, contentType: 'image/png' });
  await uploader.flush();
  expect((await uploader.deadLetters()).map((letter) => letter.id).sort()).toEqual([blob, record]);
  return bytes;
}

describe('requeueing dead letters', () => {
  it('delivers them exactly once, with the same ids and content, once the cause is fixed', async ({
    server,
    openUploader,
  }) => {
    const taker = await openUploader({ endpoint: server.url });
    const { uploader, directory } = await openUploader({ endpoint: server.url });
    const bytes = await deadLetterTwo(uploader, taker.uploader, 'fixed');
    const before = await rowsOf(server, ['fixed-record', 'fixed-blob']);

    // The items were meant for the other source: fix the key, then requeue.
    uploader.setApiKey('other-key');
    const delivered: DeliveredEvent['items'][number][] = [];
    uploader.on('delivered', (event) => delivered.push(...event.items));
    const result = await uploader.requeue();
    expect(result.requeued.sort()).toEqual(['fixed-blob', 'fixed-record']);
    expect(result).toMatchObject({ missing: [], unavailable: [] });
    expect(await uploader.deadLetters()).toEqual([]);
    await uploader.flush();

    expect(delivered.map((item) => [item.id, item.status]).sort()).toEqual([
      ['fixed-blob', 'stored'],
      ['fixed-record', 'stored'],
    ]);
    const rows = await rowsOf(server, ['fixed-record', 'fixed-blob']);
    expect(rows.filter((row) => row.source === 'test')).toEqual(before);
    expect(rows.filter((row) => row.source === 'other')).toMatchObject([
      {
        id: 'fixed-blob',
        kind: 'blob',
        ts: '2',
        hash: blobItemHash({ type: 'b', ts: 2, contentType: 'image/png', size: 6000, sha256: sha256(bytes) }),
      },
      {
        id: 'fixed-record',
        kind: 'record',
        ts: '1',
        data: { second: true },
        hash: recordHash({ type: 't', ts: 1, data: { second: true } }),
      },
    ]);
    const response = await fetch(`${server.url}/v1/items/fixed-blob`, {
      headers: { authorization: 'Bearer other-key' },
    });
    expect(await response.json()).toMatchObject({ blob: { size: 6000, sha256: sha256(bytes) } });
    // Nothing is left behind: no queued copy, no kept bytes.
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(await readdir(join(directory, 'dead-letters', 'blobs'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0, delivered: 2, dead: 2 });
  });

  it('reports ids without a dead letter as missing and leaves the others dead', async ({
    server,
    openUploader,
  }) => {
    const taker = await openUploader({ endpoint: server.url });
    const reopened = await openUploader({ endpoint: server.url });
    await deadLetterTwo(reopened.uploader, taker.uploader, 'unfixed');

    const result = await reopened.uploader.requeue(['no-such-id', 'unfixed-blob']);
    expect(result).toEqual({ requeued: ['unfixed-blob'], missing: ['no-such-id'], unavailable: [] });
    await reopened.uploader.flush();
    // Still a conflict under this key: dead again, with its bytes, once.
    const letters = await reopened.uploader.deadLetters();
    expect(letters.map((letter) => letter.id).sort()).toEqual(['unfixed-blob', 'unfixed-record']);
    expect(await readdir(join(reopened.directory, 'dead-letters', 'blobs'))).toHaveLength(1);
    expect(await reopened.uploader.requeue(['nothing', 'here'])).toEqual({
      requeued: [],
      missing: ['nothing', 'here'],
      unavailable: [],
    });
  });

  it('puts an item back once however often it is requeued', async ({ server, openUploader }) => {
    const taker = await openUploader({ endpoint: server.url });
    const { uploader } = await openUploader({ endpoint: server.url });
    await deadLetterTwo(uploader, taker.uploader, 'twice');
    uploader.setApiKey('other-key');
    const results = await Promise.all([
      uploader.requeue(['twice-record']),
      uploader.requeue(['twice-record']),
      uploader.requeue(),
    ]);
    expect(results.map((result) => result.requeued)).toEqual([['twice-record'], [], ['twice-blob']]);
    expect(results[1]!.missing).toEqual(['twice-record']);
    await uploader.flush();
    // A second copy would show up as a duplicate acknowledgement.
    expect(uploader.stats()).toMatchObject({ delivered: 2, duplicates: 0, queued: 0 });
    expect((await rowsOf(server, ['twice-record'])).filter((row) => row.source === 'other')).toHaveLength(1);
  });

  it('refuses ids that are not an array of strings with a TypeError naming `ids`', async ({
    openUploader,
  }) => {
    const { uploader } = await openUploader({ endpoint: 'http://127.0.0.1:1' });
    await expect(uploader.requeue('some-id' as never)).rejects.toThrow(TypeError);
    await expect(uploader.requeue([1] as never)).rejects.toThrow(/`ids`/);
  });
});
