import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from './support/fault-proxy.js';
import { Cleanup, enqueueMany, notStoredOnce, openUploader, waitFor } from './support/harness.js';

let server: TestServer;
const cleanup = new Cleanup();
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => cleanup.run());

describe('close() with requests in flight', () => {
  it.each([
    ['answers within the 2 s grace', 800],
    ['answers after the grace, so the requests are abandoned', 3500],
  ])('emits no error after it resolved when the server %s; nothing is lost', async (_, delayMs) => {
    const faults = await startFaultProxy(server.url);
    cleanup.add(() => faults.close());
    faults.decide = (request) =>
      request.method === 'POST' ? { kind: 'forward', delayMs } : { kind: 'forward' };
    const first = await openUploader(cleanup, {
      endpoint: faults.url,
      maxBatchItems: 20,
      minConcurrency: 4,
      maxConcurrency: 4,
    });
    let closed = false;
    const lateErrors: Error[] = [];
    first.uploader.on('error', (error) => {
      if (closed) lateErrors.push(error);
    });
    const ids = await enqueueMany(first.uploader, 200);
    await first.uploader.enqueueBlob({ type: 'shot', body: Buffer.alloc(5000, 1), contentType: 'image/png' });
    await waitFor(() => first.uploader.stats().inFlight >= 20);
    await first.uploader.close();
    closed = true;
    await new Promise((resolve) => setTimeout(resolve, delayMs + 1000));
    expect(lateErrors).toEqual([]);

    faults.decide = () => ({ kind: 'forward' });
    const second = await openUploader(cleanup, { endpoint: faults.url, directory: first.directory });
    expect(await second.uploader.flush()).toMatchObject({ complete: true, queued: 0 });
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });
});
