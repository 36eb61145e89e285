import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { createUploader } from '../src/index.js';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';

/** An endpoint nothing listens on: every request fails to connect, so items stay queued. */
const DOWN = 'http://127.0.0.1:1';

describe('sluice status', () => {
  test('shows the backlog a send left while the API was down, in the bytes stats().queuedBytes counts', async ({
    dir,
    files,
  }) => {
    const file = join(files, 'big.bin');
    await writeFile(file, Buffer.alloc(1_000_000, 7));
    const sent = await sluice(['send', file, '--endpoint', DOWN, '--timeout', '2', '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(sent.code).toBe(4);
    expect(sent.stderr).toContain(`--timeout 2s passed; 1 item stays queued in ${dir}`);

    const status = await sluice(['status', '--dir', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('owner\tnone (no uploader has it open)\n');
    expect(status.stdout).toMatch(/^records\t0 queued\t0 bytes\toldest -\t0 corrupt skipped$/m);
    expect(status.stdout).toMatch(/^blobs\t1 queued\t1000000 bytes\toldest \d+s\t0 corrupt skipped$/m);
    expect(status.stdout).toContain('total\t1 queued\t1000000 bytes\n');
    expect(status.stdout).toContain('dead letters\t0\n');

    const json = JSON.parse((await sluice(['status', '--json', '--dir', dir])).stdout) as Record<
      string,
      unknown
    >;
    expect(json).toMatchObject({
      directory: dir,
      exists: true,
      owner: null,
      queued: 1,
      queuedBytes: 1_000_000,
      deadLetters: 0,
    });
  }, 60_000);

  test('reads the backlog of a directory another process owns without taking its lock, and names the owner', async ({
    dir,
  }) => {
    const uploader = await createUploader({ endpoint: DOWN, apiKey: 'test-key', directory: dir });
    try {
      await uploader.enqueueBlob({
        type: 'photo',
        body: Buffer.alloc(1_000_000, 1),
        contentType: 'image/png',
      });
      await uploader.enqueue({ type: 'click', data: { x: 1 } });
      const stats = uploader.stats();
      expect(stats.queuedBytes).toBeGreaterThan(1_000_000);

      const status = await sluice(['status', '--dir', dir]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        new RegExp(`^owner\\tin use by process ${process.pid} on host ${hostname()} since \\S+$`, 'm'),
      );
      expect(status.stdout).toMatch(/^records\t1 queued\t\d+ bytes\t/m);
      expect(status.stdout).toMatch(/^blobs\t1 queued\t1000000 bytes\t/m);
      expect(status.stdout).toContain(`total\t${stats.queued} queued\t${stats.queuedBytes} bytes\n`);

      // The owner kept its lock and its work: it still takes new items.
      await uploader.enqueue({ type: 'click', data: { x: 2 } });
      expect(uploader.stats().queued).toBe(3);
    } finally {
      await uploader.close();
    }
    const after = await sluice(['status', '--json', '--dir', dir]);
    expect(JSON.parse(after.stdout)).toMatchObject({ owner: null, queued: 3 });
  }, 60_000);
});
