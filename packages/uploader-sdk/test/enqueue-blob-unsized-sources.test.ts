import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';

const MiB = 1024 * 1024;
const unreachable = 'http://127.0.0.1:9';

// Paths whose size is not known before reading them: FIFOs, devices and /proc files are Linux's.
describe.skipIf(process.platform !== 'linux')('enqueueBlob of a path whose size reading may exceed', () => {
  it('refuses what is not a regular file (a FIFO, a device) without copying it, and keeps the quota', async ({
    openUploader,
    tempDir,
    cleanup,
  }) => {
    const { uploader, directory } = await openUploader({ endpoint: unreachable, maxBlobQueueBytes: MiB });
    const fifo = join(await tempDir(), 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A writer with twice the quota to give, as fast as it is read.
    const writer = spawn('sh', ['-c', `head -c ${2 * MiB} /dev/zero > "$0"`, fifo], { stdio: 'ignore' });
    cleanup.add(async () => {
      writer.kill();
    });

    for (const body of [fifo, '/dev/null', await tempDir()]) {
      const error = await uploader
        .enqueueBlob({ type: 'f', body, contentType: 'application/octet-stream' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/regular file/);
    }
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
    // The whole quota is still free.
    await uploader.enqueueBlob({ type: 'f', body: randomBytes(MiB), contentType: 'image/png' });
    expect(uploader.stats()).toMatchObject({ queuedBlobs: 1, queuedBytes: MiB });
  });

  it('stops copying a file that yields more bytes than its size said, leaving nothing behind', async ({
    openUploader,
  }) => {
    const quota = 1000;
    const { uploader, directory } = await openUploader({ endpoint: unreachable, maxBlobQueueBytes: quota });
    // A regular file whose size reads 0 but which yields several KiB: like a file still being written.
    const growing = '/proc/self/maps';
    await expect(
      uploader.enqueueBlob({ type: 'f', body: growing, contentType: 'text/plain' }),
    ).rejects.toThrow(RangeError);
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
    await uploader.enqueueBlob({ type: 'f', body: randomBytes(quota), contentType: 'image/png' });
    expect(uploader.stats()).toMatchObject({ queuedBlobs: 1, queuedBytes: quota });
  });

  it('refuses a file larger than the server accepts before copying it, whatever room the quota has', async ({
    openUploader,
    tempDir,
  }) => {
    const { uploader, directory } = await openUploader({ endpoint: unreachable, maxBlobQueueBytes: MiB });
    const large = join(await tempDir(), 'large.bin');
    await writeFile(large, '');
    await truncate(large, DEFAULT_LIMITS.maxBlobBytes + 1);
    await expect(
      uploader.enqueueBlob({ type: 'f', body: large, contentType: 'application/octet-stream' }),
    ).rejects.toThrow(RangeError);
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
  });
});
