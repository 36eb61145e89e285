import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decideRequest } from '../src/request-decision.js';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, notStoredOnce } from './support/harness.js';
import { transportResult } from './support/transport-result.js';

const KiB = 1024;

describe('blob requests cut off without an answer', () => {
  it('splits a multi-blob request that got no answer into single blobs; a single one retries', () => {
    const cutOff = transportResult({ code: 'NETWORK_ERROR' }, '/v1/blobs');
    const decide = (itemCount: number) =>
      decideRequest({ kind: 'blob', result: cutOff, itemCount, answered: false });
    expect(decide(8)).toEqual({ action: 'split', reason: 'NETWORK_ERROR', into: 'singles' });
    expect(decide(1)).toMatchObject({ action: 'retry', reason: 'NETWORK_ERROR' });
    // A proxy that answers its own request timeout with a 408 cuts the same request again on every attempt.
    const proxyTimeout = transportResult({ status: 408 }, '/v1/blobs');
    expect(decideRequest({ kind: 'blob', result: proxyTimeout, itemCount: 3, answered: false })).toEqual({
      action: 'split',
      reason: 'HTTP_408',
      into: 'singles',
    });
    // Records are small: a cut-off record request is resent as it is.
    expect(decideRequest({ kind: 'record', result: cutOff, itemCount: 8, answered: false })).toMatchObject({
      action: 'retry',
    });
  });

  it('delivers blob by blob, exactly once, through a link that cuts off every request larger than one blob', async ({
    server,
    openUploader,
    faults,
  }) => {
    // Queue them while nothing answers, so that the next start reads them into one request.
    const offline = await openUploader({ endpoint: 'http://127.0.0.1:9' });
    const huge = await offline.uploader.enqueueBlob({
      type: 'video',
      body: randomBytes(400 * KiB),
      contentType: 'video/mp4',
    });
    const small: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const { id } = await offline.uploader.enqueueBlob({
        type: 'shot',
        body: randomBytes(100 * KiB),
        contentType: 'image/png',
      });
      small.push(id);
    }
    await offline.uploader.close();

    faults.decide = (request) =>
      request.url === '/v1/blobs' ? { kind: 'forward', cutAfterBytes: 150 * KiB } : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url, directory: offline.directory });
    const retried = new Set<string>();
    uploader.on('retry', (event) => {
      for (const id of event.ids) retried.add(id);
    });

    // The huge blob is too large for this link: it waits alone, retrying, and holds nobody back.
    expect(await uploader.flush({ timeoutMs: 4000 })).toMatchObject({
      complete: false,
      delivered: 6,
      dead: 0,
      queued: 1,
    });
    expect(await notStoredOnce(server, small)).toEqual([]);
    expect(await countsOf(server, [huge.id])).toEqual([0]);
    expect(retried.has(huge.id)).toBe(true);
    expect(await readdir(join(offline.directory, 'blob-data'))).toHaveLength(1);

    // Once the link lets it through, it is delivered too, once, and its copy is gone.
    faults.decide = () => ({ kind: 'forward' });
    expect(await uploader.flush({ timeoutMs: 10_000 })).toMatchObject({ complete: true, queued: 0 });
    expect(await notStoredOnce(server, [huge.id, ...small])).toEqual([]);
    expect(await readdir(join(offline.directory, 'blob-data'))).toEqual([]);
  });
});
