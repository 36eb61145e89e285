import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectDiskQueue } from '../src/disk-queue/index.js';
import { createUploader } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import { tempDirectory, waitFor } from './support/harness.js';
import { mountTmpfs, tmpfsMountable, warnIfNoTmpfs } from './support/tmpfs.js';

warnIfNoTmpfs('the full-disk open test');

describe('an uploader on a full disk', () => {
  it.skipIf(!tmpfsMountable)(
    'opens and sends its backlog; the acknowledgements are recorded once there is room',
    async ({ server, cleanup }) => {
      const disk = await tempDirectory();
      cleanup.add(mountTmpfs(disk, '1m'));
      const directory = join(disk, 'queue');
      const options = { apiKey: 'test-key', directory, maxBatchDelayMs: 20, backoffBaseMs: 50 };

      // Queued while the API was unreachable.
      const offline = await createUploader({ ...options, endpoint: 'http://127.0.0.1:1' });
      const ids: string[] = [];
      for (let n = 0; n < 100; n += 1) {
        ids.push((await offline.enqueue({ type: 'disk-full', data: { n, pad: 'x'.repeat(300) } })).id);
      }
      await offline.close();

      // Then the disk filled up (another program's file), and the app restarted: the queue opens and
      // sends its backlog (recording the acknowledgements needs a little space, so they wait for it).
      const filler = join(disk, 'filler');
      await writeFile(filler, Buffer.alloc(2 * 1024 * 1024)).catch((error: NodeJS.ErrnoException) =>
        expect(error.code).toBe('ENOSPC'),
      );
      const uploader = await createUploader({ ...options, endpoint: server.url });
      cleanup.add(() => uploader.close());
      expect(uploader.stats().queued).toBe(100);
      const stored = () =>
        server.query<{ id: string }>(
          "select id from items where source = $1 and type = 'disk-full' order by id",
          [server.source],
        );
      await waitFor(async () => (await stored()).length === 100, 20_000);
      expect((await stored()).map((row) => row.id)).toEqual([...ids].sort());

      // Once there is room, the acknowledgements are written and nothing is sent again.
      await rm(filler);
      const flushed = await uploader.flush({ timeoutMs: 20_000 });
      expect(flushed).toMatchObject({ complete: true, queued: 0 });
      await uploader.close();

      // The acknowledgements reached the disk: what a restart would find queued (as `sluice status` reads it).
      expect((await inspectDiskQueue(join(directory, 'records'))).entries).toBe(0);
    },
    60_000,
  );
});
