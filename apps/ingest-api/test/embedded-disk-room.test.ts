import type { ErrorBody, IngestResponse } from '@sluice/contracts';
import { vi } from 'vitest';
import { DiskRoom } from '../src/db/disk-room.js';
import { describe, expect, it } from './support/fixtures.js';
import { get, postBatch, record } from './support/http.js';

// PGlite does not survive a full disk (the write that runs out fails with an internal error, the next one
// spins at full CPU and ignores SIGTERM), so the server stops short of it. The file system's free space is
// what `statfs` says, set here as a disk filling up and emptying again would.
const disk = vi.hoisted(() => ({ freeBytes: 1e12 }));
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  return {
    ...fs,
    statfs: async (path: string) => ({ ...(await fs.statfs(path)), bsize: 1, bavail: disk.freeBytes }),
  };
});

const MiB = 1024 * 1024;

describe('the embedded database with its disk nearly full', () => {
  it('answers 503 UNAVAILABLE with Retry-After below EMBEDDED_MIN_FREE_BYTES, is not ready, stays alive, and stores the retry once there is room', async ({
    startApp,
  }) => {
    disk.freeBytes = 1e12;
    const app = await startApp({ db: { url: undefined } });
    expect(app.config.db.embeddedMinFreeBytes).toBe(64 * MiB);
    expect((await postBatch<IngestResponse>(app, { items: [record('room-0')] })).status).toBe(200);

    disk.freeBytes = 63 * MiB;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const items = [record('room-1'), record('room-2')];
    const refused = await postBatch<ErrorBody>(app, { items });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get(app, '/readyz', null)).status).toBe(503);
    expect((await get(app, '/healthz', null)).status).toBe(200);

    disk.freeBytes = 65 * MiB;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = await postBatch<IngestResponse>(app, { items });
    expect(stored.status).toBe(200);
    expect(stored.body.counts.stored).toBe(2);
    expect((await get(app, '/readyz', null)).status).toBe(200);
    await app.close();
  }, 120_000);

  it('refuses to start on a disk below the floor, saying so', async ({ startApp }) => {
    disk.freeBytes = 10 * MiB;
    await expect(startApp({ db: { url: undefined } })).rejects.toThrow(
      /embedded database's disk .* has 10485760 bytes free/,
    );
    disk.freeBytes = 1e12;
  }, 120_000);

  it('counts what reservations in progress will write: requests checked at once cannot all pass on the same free space', async () => {
    disk.freeBytes = 100 * MiB;
    const room = new DiskRoom('/tmp', 64 * MiB);
    const first = await room.reserve(20 * MiB);
    await expect(room.reserve(20 * MiB)).rejects.toThrow(/besides 20971520 that writes in progress/);
    first();
    first();
    const again = await room.reserve(20 * MiB);
    again();
    disk.freeBytes = 1e12;
  });
});
