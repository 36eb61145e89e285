import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_BLOBS, type DeadLetter, openDeadLetterStore } from '../src/dead-letter-store.js';
import { tempDirectory } from './disk-queue-helpers.js';

function blobLetter(n: number, file: string | undefined): DeadLetter {
  return {
    id: `blob-${n}`,
    kind: 'blob',
    type: 'photo',
    ts: 1000 + n,
    reason: { code: 'IDEMPOTENCY_CONFLICT', message: 'taken' },
    status: 'conflict',
    deadAt: 2000 + n,
    item: { id: `blob-${n}`, size: 10 },
    ...(file === undefined ? {} : { file }),
  };
}

describe('dead-letter store removal and kept blob bytes', () => {
  it('removes exactly the given letters and their bytes, keeping letters added meanwhile', async () => {
    const directory = await tempDirectory();
    const source = join(directory, 'source.bin');
    const bytes = randomBytes(10);
    await writeFile(source, bytes);
    const store = await openDeadLetterStore({ directory: join(directory, 'dead-letters') });
    expect(await store.keepBlob(source, 'blob-0.aa')).toBe(true);
    expect(await store.keepBlob(source, 'blob-1.bb')).toBe(true);
    // A second keep of the same copy (a retry after a crash) is fine.
    expect(await store.keepBlob(source, 'blob-1.bb')).toBe(true);
    expect(await store.keepBlob(join(directory, 'gone.bin'), 'blob-2.cc')).toBe(false);
    await store.add([blobLetter(0, 'blob-0.aa'), blobLetter(1, 'blob-1.bb'), blobLetter(2, undefined)]);
    expect(await readFile(store.blobPath('blob-0.aa'))).toEqual(bytes);

    await Promise.all([store.remove([blobLetter(0, 'blob-0.aa')]), store.add([blobLetter(3, undefined)])]);
    expect((await store.list()).map((letter) => letter.id)).toEqual(['blob-1', 'blob-2', 'blob-3']);
    expect(await readdir(join(directory, 'dead-letters', DEAD_LETTER_BLOBS))).toEqual(['blob-1.bb']);
    await store.add([blobLetter(4, undefined)]);
    await store.close();

    const reopened = await openDeadLetterStore({ directory: join(directory, 'dead-letters') });
    expect((await reopened.list()).map((letter) => letter.id)).toEqual([
      'blob-1',
      'blob-2',
      'blob-3',
      'blob-4',
    ]);
    await reopened.close();
  });

  it('deletes kept bytes no letter names when a writer opens it', async () => {
    const directory = join(await tempDirectory(), 'dead-letters');
    const store = await openDeadLetterStore({ directory });
    const source = join(directory, '..', 'source.bin');
    await writeFile(source, randomBytes(10));
    await store.keepBlob(source, 'named.aa');
    await store.keepBlob(source, 'crashed-before-its-letter.bb');
    await store.add([blobLetter(0, 'named.aa')]);
    await store.close();

    const reader = await openDeadLetterStore({ directory, readOnly: true });
    await reader.close();
    expect(await readdir(join(directory, DEAD_LETTER_BLOBS))).toHaveLength(2);
    const writer = await openDeadLetterStore({ directory });
    expect(await readdir(join(directory, DEAD_LETTER_BLOBS))).toEqual(['named.aa']);
    await writer.close();
  });

  it('refuses a letter naming bytes outside its blobs directory', async () => {
    const store = await openDeadLetterStore({ directory: await tempDirectory() });
    await expect(store.add([blobLetter(0, '../records/queue.lock')])).rejects.toThrow(TypeError);
    await expect(store.keepBlob('/etc/hostname', '../x')).rejects.toThrow(/`file`/);
    await store.close();
  });
});
