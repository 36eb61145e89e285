import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { tailFile } from '../src/index.js';
import { openUploader, tempDirectory, waitFor } from './support/harness.js';
import { test } from './support/tail-fixture.js';
import { numberedLines, storedLines, storedLineTexts } from './support/tail-harness.js';

const lines = (text: readonly string[]): string => `${text.join('\n')}\n`;

describe('a full queue', () => {
  for (const whenFull of ['reject', 'drop-oldest'] as const) {
    test(`makes the tailer wait, never drop a line (whenFull: '${whenFull}')`, async ({
      server,
      cleanup,
    }) => {
      const logs = await tempDirectory('sluice-tail-');
      const path = join(logs, 'app.log');
      const text = numberedLines('bp', 3000);
      await writeFile(path, lines(text));
      // About 40 records fit: the tailer keeps running into the quota while the queue drains.
      const { uploader } = await openUploader(cleanup, {
        endpoint: server.url,
        maxQueueBytes: 8192,
        whenFull,
      });
      const tail = tailFile(path, { uploader, pollIntervalMs: 20 });
      cleanup.add(() => tail.stop());
      await waitFor(async () => (await storedLines(server)).length >= text.length, 50_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await storedLineTexts(server)).toEqual([...text].sort());
      expect(uploader.stats().dropped).toBe(0);
    }, 60_000);
  }

  // The tailer sizes what it offers the queue by an estimate of each record; JSON escaping makes a line of
  // control characters six times its bytes. Offered together, more than the whole quota was refused as
  // one, again and again: the tailer stalled for good with an empty queue.
  for (const whenFull of ['reject', 'drop-oldest'] as const) {
    test(`takes lines whose records are far larger than estimated (whenFull: '${whenFull}')`, async ({
      server,
      cleanup,
    }) => {
      const logs = await tempDirectory('sluice-tail-');
      const path = join(logs, 'app.log');
      const text = Array.from({ length: 2500 }, (_, index) => `${index} ${'\u0001'.repeat(100)}`);
      await writeFile(path, lines(text));
      const { uploader } = await openUploader(cleanup, {
        endpoint: server.url,
        maxQueueBytes: 1024 * 1024,
        whenFull,
      });
      const tail = tailFile(path, { uploader, pollIntervalMs: 20 });
      cleanup.add(() => tail.stop());
      await waitFor(async () => (await storedLines(server)).length >= text.length, 30_000);
      expect(await storedLineTexts(server)).toEqual([...text].sort());
      expect(uploader.stats().dropped).toBe(0);
    }, 40_000);
  }
});

describe('content-derived ids', () => {
  test('uses the id function for every record', async ({ server, cleanup }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'orders.log');
    await writeFile(path, lines(['order=A17 paid', 'order=B02 shipped']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, {
      uploader,
      pollIntervalMs: 20,
      id: (line, position) => {
        expect(position.file).toBe(path);
        return `order-${/order=(\w+)/.exec(line)![1]}`;
      },
    });
    cleanup.add(() => tail.stop());
    await waitFor(async () => (await storedLines(server)).length >= 2);
    expect((await storedLines(server)).map((row) => row.id).sort()).toEqual(['order-A17', 'order-B02']);
  });
});
