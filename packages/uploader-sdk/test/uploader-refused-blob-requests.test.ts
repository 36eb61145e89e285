import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createUploader } from '../src/index.js';
import { tempDirectory } from './support/harness.js';

// fetch reads a multipart blob body from disk while it connects; a request abandoned at the wrong moment
// made it enqueue into a cancelled stream and throw out of the process (an uncaught TypeError that killed
// the app embedding the SDK). Here every connection is refused, over and over.
describe('blob requests to an endpoint that refuses connections', () => {
  it('are retried and kept, and nothing throws out of the process', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const directory = await tempDirectory('sluice-refused-blobs-');
    const uploader = await createUploader({
      endpoint: 'http://127.0.0.1:1',
      apiKey: 'test-key',
      directory,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
    });
    try {
      for (let i = 0; i < 20; i += 1) {
        await uploader.enqueueBlob({
          type: 'shot',
          body: randomBytes(256 * 1024),
          contentType: 'image/png',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const stats = uploader.stats();
      expect(stats.retries).toBeGreaterThan(5);
      expect(stats.queued).toBe(20);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await uploader.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
