import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobFiles } from '../src/blob-files.js';
import { tempDirectory } from './support/harness.js';

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function blobDirectory(orphans: number): Promise<string> {
  const directory = await tempDirectory('sluice-blob-files-');
  directories.push(directory);
  for (let i = 0; i < orphans; i++) await writeFile(join(directory, `orphan-${i}.abc`), randomBytes(64));
  return directory;
}

describe('orphan blob-copy sweep', () => {
  it('never deletes the copy of an enqueue whose queue entry is appended while the sweep runs', async () => {
    const directory = await blobDirectory(200);
    const files = await BlobFiles.open(directory, 1 << 30, 'fsync');
    const bytes = randomBytes(5000);
    // enqueueBlob has copied and fsync'd its bytes and is appending the entry when the queue empties.
    const copy = await files.copy('in-progress', bytes);
    const sweeping = files.sweepOrphans();
    // (the entry's append resolves here)
    const removed = await sweeping;
    expect(await readFile(files.path(copy.file))).toEqual(bytes);
    expect(removed).toBe(200);
    expect(await readdir(directory)).toEqual([copy.file]);
    expect(files.bytes).toBe(5000);
  });

  it('never deletes a copy still being written or copied while the sweep runs', async () => {
    const directory = await blobDirectory(200);
    const files = await BlobFiles.open(directory, 1 << 30, 'fsync');
    const sweeping = files.sweepOrphans();
    const copies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => files.copy(`during-${i}`, randomBytes(1000))),
    );
    await sweeping;
    expect((await readdir(directory)).sort()).toEqual(copies.map((copy) => copy.file).sort());
    expect(files.bytes).toBe(20_000);
  });
});
