import {
  BlobOverviewSchema,
  type FailedBlobPage,
  FailedBlobPageSchema,
  RetriedBlobsSchema,
} from '@sluice/contracts';
import type { ObjectStore } from '../src/object-store/object-store.js';
import type { TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { type BlobToSend, makeBlob, partsFor, postBlobs, waitFor } from './blob-support.js';
import { admin } from './support/admin.js';
import { describe, expect, it } from './support/fixtures.js';

/** A store every upload to fails. */
const downStore: ObjectStore = {
  description: 'down://',
  put: async () => {
    throw new Error('object store unreachable');
  },
  head: async () => undefined,
  get: async () => undefined,
  getStream: async () => undefined,
  close: async () => {},
};

async function runWorker(server: TestServer, store: ObjectStore, until: () => Promise<boolean>) {
  const worker = new BlobWorker({
    db: server.app.db,
    objectStore: store,
    pollIntervalMs: 10,
    maxAttempts: 1,
    backoffBaseMs: 1,
  });
  worker.start();
  try {
    await waitFor('the worker', until);
  } finally {
    await worker.stop();
  }
}

async function stateOf(server: TestServer, source: string, id: string) {
  const [row] = await server.query<{ state: string }>(
    'select state from blobs where source = $1 and id = $2',
    [source, id],
  );
  return row?.state;
}

/** Stores `blobs` for each key and fails them all. */
async function failedBlobs(server: TestServer, blobs: BlobToSend[], keys = [server.apiKey]) {
  for (const apiKey of keys) {
    expect((await postBlobs({ ...server, apiKey }, partsFor(blobs))).body.counts.stored).toBe(blobs.length);
  }
  await runWorker(server, downStore, async () => {
    const [row] = await server.query<{ n: number }>(
      "select count(*)::int as n from blobs where state in ('pending', 'uploading')",
    );
    return row?.n === 0;
  });
}

describe('admin blobs', () => {
  it('counts blobs by state, lists failed ones with lastError page by page, retries one by (source, id)', async ({
    server,
  }) => {
    const blobs = Array.from({ length: 5 }, () => makeBlob({ size: 300 }));
    await failedBlobs(server, blobs, [server.apiKey, 'other-key']);
    const pending = makeBlob();
    await postBlobs(server, partsFor([pending]));

    const overview = BlobOverviewSchema.parse((await admin(server.url, '/admin/v1/blobs')).body);
    expect(overview.counts).toEqual({ pending: 1, uploading: 0, uploaded: 0, failed: 10 });
    expect(overview.backlogAgeMs).toBeGreaterThanOrEqual(0);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await admin<FailedBlobPage>(
        server.url,
        `/admin/v1/blobs/failed?limit=3${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      expect(answer.status).toBe(200);
      const page = FailedBlobPageSchema.parse(answer.body);
      for (const blob of page.blobs) {
        expect(blob).toMatchObject({ attempts: 1, size: 300, contentType: 'image/png', type: 'screenshot' });
        expect(blob.lastError).not.toBe('');
        seen.push(`${blob.source}/${blob.id}`);
      }
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(4);
    expect([...seen].sort()).toEqual(
      ['other', 'test'].flatMap((source) => blobs.map((blob) => `${source}/${blob.item.id}`)).sort(),
    );

    const target = blobs[0]!.item.id;
    const retried = await admin(server.url, '/admin/v1/blobs/retry', {
      body: {
        items: [
          { source: 'test', id: target },
          { source: 'test', id: pending.item.id },
        ],
      },
    });
    expect(retried.status).toBe(200);
    expect(RetriedBlobsSchema.parse(retried.body)).toEqual({
      count: 1,
      retried: [{ source: 'test', id: target }],
    });
    expect(await stateOf(server, 'test', target)).toBe('pending');
    // The same id of another source is another blob: it stays failed.
    expect(await stateOf(server, 'other', target)).toBe('failed');

    await runWorker(
      server,
      server.app.objectStore,
      async () => (await stateOf(server, 'test', target)) === 'uploaded',
    );
    const bytes = await fetch(`${server.url}/admin/v1/items/test/${target}/bytes`, {
      headers: { authorization: `Bearer ${server.config.admin.key}` },
    });
    expect(Buffer.from(await bytes.arrayBuffer()).equals(Buffer.from(blobs[0]!.bytes))).toBe(true);

    const all = RetriedBlobsSchema.parse(
      (await admin(server.url, '/admin/v1/blobs/retry', { body: { all: true } })).body,
    );
    expect(all.count).toBe(9);
    expect(all.retried).toHaveLength(9);
    const after = BlobOverviewSchema.parse((await admin(server.url, '/admin/v1/blobs')).body);
    expect(after.counts.failed).toBe(0);
  });

  it('answers 400 INVALID_REQUEST for hostile parameters and bodies', async ({ server }) => {
    for (const query of ['limit=0', 'limit=501', 'limit=x', 'cursor=%%%', 'cursor=W10', 'extra=1']) {
      const answer = await admin(server.url, `/admin/v1/blobs/failed?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
    const bodies = [
      {},
      { all: false },
      { all: 'true' },
      { items: [] },
      { items: [{ source: 'test' }] },
      { items: [{ source: 'test', id: 'a b' }] },
      { items: [{ source: 'test', id: 'x', more: 1 }] },
      { items: Array.from({ length: 1001 }, (_, i) => ({ source: 'test', id: `b${i}` })) },
      { all: true, items: [] },
    ];
    for (const body of bodies) {
      const answer = await admin(server.url, '/admin/v1/blobs/retry', { body });
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
  });
});
