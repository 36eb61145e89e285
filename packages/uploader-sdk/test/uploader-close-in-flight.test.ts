import { describe, expect, it } from './support/fixtures.js';
import { enqueueMany, notStoredOnce, waitFor } from './support/harness.js';

describe('close() with requests in flight', () => {
  it.for([
    ['answers within the 2 s grace', 800],
    ['answers after the grace, so the requests are abandoned', 3500],
  ] as const)(
    'emits no error after it resolved when the server %s; nothing is lost',
    async ([_, delayMs], { server, faults, openUploader }) => {
      faults.decide = (request) =>
        request.method === 'POST' ? { kind: 'forward', delayMs } : { kind: 'forward' };
      const first = await openUploader({
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
      await first.uploader.enqueueBlob({
        type: 'shot',
        body: Buffer.alloc(5000, 1),
        contentType: 'image/png',
      });
      await waitFor(() => first.uploader.stats().inFlight >= 20);
      await first.uploader.close();
      closed = true;
      await new Promise((resolve) => setTimeout(resolve, delayMs + 1000));
      expect(lateErrors).toEqual([]);

      faults.decide = () => ({ kind: 'forward' });
      const second = await openUploader({ endpoint: faults.url, directory: first.directory });
      expect(await second.uploader.flush()).toMatchObject({ complete: true, queued: 0 });
      expect(await notStoredOnce(server, ids)).toEqual([]);
    },
  );
});
