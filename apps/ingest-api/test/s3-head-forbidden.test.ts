import type { ServerResponse } from 'node:http';
import { blobObjectKey } from '@sluice/contracts';
import type { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import type { TestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { makeBlob, partsFor, postBlobs, sha256Hex, waitFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';
import { startScriptedS3 } from './support/scripted-s3.js';

const BUCKET = 'least-privilege';

/**
 * An S3 endpoint for credentials without `s3:ListBucket`, as AWS answers them: HEAD and GET of a missing
 * key are 403, not 404. PUTs are stored (or refused with 403 AccessDenied when `allowPuts` is false).
 */
async function startLeastPrivilegeS3(options: { allowPuts: boolean }) {
  const objects = new Map<string, Buffer>();
  const denied = (response: ServerResponse, method: string) => {
    response.statusCode = 403;
    if (method === 'HEAD') return response.end();
    response.setHeader('content-type', 'application/xml');
    response.end(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    );
  };
  const s3 = await startScriptedS3(
    (request, response) => {
      const key = decodeURIComponent(new URL(request.url ?? '/', 'http://s3').pathname).slice(
        BUCKET.length + 2,
      );
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const method = request.method ?? 'GET';
        if (method === 'PUT') {
          if (!options.allowPuts) return denied(response, method);
          objects.set(key, Buffer.concat(chunks));
          response.setHeader('etag', '"0"');
          return response.end();
        }
        const object = objects.get(key);
        if (object === undefined) return denied(response, method);
        response.setHeader('content-length', object.length);
        response.end(method === 'HEAD' ? undefined : object);
      });
    },
    { bucket: BUCKET },
  );
  return { objects, store: s3.store, close: s3.close };
}

/** Runs a worker on `store` until `until()` holds; returns what it logged, with each error's message. */
async function runWorker(
  server: Pick<TestServer, 'app'>,
  store: S3ObjectStore,
  until: () => Promise<boolean>,
): Promise<string[]> {
  const lines: string[] = [];
  const line = (object: object, message: string) =>
    lines.push(`${message} ${String((object as { err?: Error }).err?.message ?? '')}`);
  const worker = new BlobWorker({
    db: server.app.db,
    objectStore: store,
    pollIntervalMs: 20,
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    maxAttempts: 2,
    logger: { info: line, warn: line, error: line },
  });
  worker.start();
  try {
    await waitFor('the blobs to settle', until);
  } finally {
    await worker.stop();
  }
  return lines;
}

describe('blob worker on S3 credentials without s3:ListBucket (HEAD of a missing key is 403)', () => {
  it('uploads anyway: the blobs end uploaded and their bytes are in the bucket', async ({ server }) => {
    // One blob sent whole, one streamed from several staged chunks.
    const blobs = [makeBlob({ size: 3000 }), makeBlob({ size: 1536 * 1024 })];
    expect((await postBlobs(server, partsFor(blobs))).body.counts.stored).toBe(2);
    const ids = blobs.map((blob) => blob.item.id);
    const s3 = await startLeastPrivilegeS3({ allowPuts: true });
    try {
      await runWorker(server, s3.store, async () => {
        const rows = await server.query<{ state: string }>('select state from blobs where id = any($1)', [
          ids,
        ]);
        return rows.every((row) => row.state !== 'pending' && row.state !== 'uploading');
      });
      const rows = await server.query<{ id: string; state: string; last_error: string | null }>(
        'select id, state, last_error from blobs where id = any($1) order by id',
        [ids],
      );
      expect(rows.map((row) => [row.state, row.last_error])).toEqual([
        ['uploaded', null],
        ['uploaded', null],
      ]);
      for (const blob of blobs) {
        const stored = s3.objects.get(blobObjectKey(blob.item.sha256));
        expect(stored && sha256Hex(stored)).toBe(blob.item.sha256);
      }
    } finally {
      await s3.close();
    }
  });

  it('fails a blob whose PUT is refused, saying which permission is missing', async ({ server }) => {
    const blob = makeBlob({ size: 2000 });
    expect((await postBlobs(server, partsFor([blob]))).body.counts.stored).toBe(1);
    const s3 = await startLeastPrivilegeS3({ allowPuts: false });
    try {
      const lines = await runWorker(server, s3.store, async () => {
        const [row] = await server.query<{ state: string }>('select state from blobs where id = $1', [
          blob.item.id,
        ]);
        return row?.state === 'failed';
      });
      const [row] = await server.query<{ last_error: string }>('select last_error from blobs where id = $1', [
        blob.item.id,
      ]);
      expect(row?.last_error).toBe('the object store answered HTTP 403 to put');
      expect(lines.join('\n')).toMatch(/s3:PutObject/);
      expect(s3.objects.size).toBe(0);
    } finally {
      await s3.close();
    }
  });
});
