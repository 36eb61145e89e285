import { describe, expect, it } from 'vitest';
import { isQueueFullError } from '../src/index.js';
import { uploaderInternals } from '../src/uploader-internals.js';
import { Cleanup, openUploader } from './support/harness.js';

// The tailer enqueues a chunk's records with one durable append. When they do not fit together (its size
// estimate was off, or another producer took the room), those that fit on their own must still go in:
// refusing the group as a whole made the tailer offer the same group again forever.
describe('enqueueRecords (the tailer’s one-append enqueue)', () => {
  it('takes the records that fit on their own when the group does not fit', async () => {
    const cleanup = new Cleanup();
    try {
      // Nothing answers on port 9: what is enqueued stays queued and fills the quota.
      const { uploader } = await openUploader(cleanup, {
        endpoint: 'http://127.0.0.1:9',
        maxQueueBytes: 8 * 1024,
      });
      const internals = uploaderInternals(uploader)!;
      const items = Array.from({ length: 40 }, (_, index) => ({
        id: `group-${index}`,
        type: 'log',
        data: { line: 'x'.repeat(400) },
      }));
      const results = await internals.enqueueRecords(items);
      const taken = results.filter((result) => result.status === 'fulfilled');
      const refused = results.filter((result) => result.status === 'rejected');
      expect(taken.length).toBeGreaterThan(5);
      expect(refused.length).toBeGreaterThan(0);
      for (const result of refused)
        expect(isQueueFullError((result as PromiseRejectedResult).reason)).toBe(true);
      // The first ones in order are those taken, and they are in the queue.
      expect(results.slice(0, taken.length).every((result) => result.status === 'fulfilled')).toBe(true);
      expect(uploader.stats().queued).toBe(taken.length);
    } finally {
      await cleanup.run();
    }
  });
});
