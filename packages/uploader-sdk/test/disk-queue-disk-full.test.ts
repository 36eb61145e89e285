import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, payloadOf, readAll, tempDirectory } from './disk-queue-helpers.js';
import { mountTmpfs, tmpfsMountable, warnIfNoTmpfs } from './support/tmpfs.js';

warnIfNoTmpfs('the disk-full test');

describe('disk queue on a full disk', () => {
  it.skipIf(!tmpfsMountable)(
    'rejects appends that do not fit, keeps the ones that resolved, and goes on once space is freed',
    async () => {
      const directory = await tempDirectory();
      const unmount = mountTmpfs(directory, '64k');
      try {
        const filler = join(directory, 'filler');
        await writeFile(filler, Buffer.alloc(16 * 1024));
        const queue = await openDiskQueue({ directory: join(directory, 'queue') });
        const resolved: number[] = [];
        let failure: unknown;
        for (let n = 0; failure === undefined && n < 10_000; n += 1) {
          await queue.append(payloadOf(n, 1000)).then(
            () => resolved.push(n),
            (error: unknown) => {
              failure = error;
            },
          );
        }
        expect(failure).toMatchObject({ code: 'ENOSPC' });
        expect(resolved.length).toBeGreaterThan(10);
        const attempted = resolved.length;

        await rm(filler);
        await queue.append(payloadOf(attempted + 1, 1000));
        expect(numbersOf(await readAll(queue))).toEqual([...resolved, attempted + 1]);
        await queue.close();

        const reopened = await openDiskQueue({ directory: join(directory, 'queue') });
        const delivered = numbersOf(await readAll(reopened));
        await reopened.close();
        // What was written of the rejected append was removed: it is not delivered after a restart either.
        expect(delivered).toEqual([...resolved, attempted + 1]);
      } finally {
        await unmount();
      }
    },
  );
});
