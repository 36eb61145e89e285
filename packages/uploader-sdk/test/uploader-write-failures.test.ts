import { mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isQueueWriteError } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import { enqueueMany, notStoredOnce, tempDirectory } from './support/harness.js';

// Failing writes are injected without privileges: a directory where the ack ledger's file must go makes
// its atomic rename fail, and a dead-letter file that is a link to /dev/full fails every append (ENOSPC).

describe('a failing write of an acknowledgement or a dead letter', () => {
  it('keeps a flush from completing and the items from counting as delivered until the ack is on disk', async ({
    server,
    openUploader,
  }) => {
    const { uploader, directory } = await openUploader({ endpoint: server.url });
    const errors: Error[] = [];
    uploader.on('error', (error) => errors.push(error));
    const ledger = join(directory, 'records', 'acks.json');
    await rm(ledger, { force: true });
    await mkdir(ledger);
    await writeFile(join(ledger, 'blocker'), '');

    const ids = await enqueueMany(uploader, 50);
    expect(await uploader.flush({ timeoutMs: 1500 })).toEqual({
      complete: false,
      timedOut: true,
      closed: false,
      delivered: 0,
      dead: 0,
      queued: 50,
    });
    // The server has them; the queue does not know it durably yet.
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(uploader.stats()).toMatchObject({ delivered: 0, queued: 50 });
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every(isQueueWriteError)).toBe(true);
    expect(errors[0]!.message).toMatch(/could not record 50 record\(s\) as delivered/);
    // Reported once per cause, not once per attempt.
    expect(errors).toHaveLength(1);

    await rm(ledger, { recursive: true });
    expect(await uploader.flush({ timeoutMs: 10_000 })).toMatchObject({
      complete: true,
      delivered: 50,
      queued: 0,
    });
    expect(uploader.stats()).toMatchObject({ delivered: 50, queued: 0 });
    await uploader.close();
    const reopened = await openUploader({ endpoint: server.url, directory });
    expect(reopened.uploader.stats().queued).toBe(0);
  });

  it('keeps a flush from completing and the item queued until its dead letter is on disk', async ({
    server,
    cleanup,
    openUploader,
  }) => {
    const directory = await tempDirectory();
    cleanup.add(() => rm(directory, { recursive: true, force: true }));
    const letters = join(directory, 'dead-letters', 'dead-letters.jsonl');
    await mkdir(join(directory, 'dead-letters'), { recursive: true });
    await symlink('/dev/full', letters);

    const first = await openUploader({ endpoint: server.url, directory });
    const errors: Error[] = [];
    first.uploader.on('error', (error) => errors.push(error));
    await first.uploader.enqueue({ id: 'conflicted', ts: 1, type: 't', data: 1 });
    expect(await first.uploader.flush()).toMatchObject({ complete: true, delivered: 1 });
    await first.uploader.enqueue({ id: 'conflicted', ts: 1, type: 't', data: 2 });
    expect(await first.uploader.flush({ timeoutMs: 1500 })).toEqual({
      complete: false,
      timedOut: true,
      closed: false,
      delivered: 0,
      dead: 0,
      queued: 1,
    });
    expect(first.uploader.stats()).toMatchObject({ dead: 0, queued: 1 });
    expect(errors).toHaveLength(1);
    expect(isQueueWriteError(errors[0])).toBe(true);
    expect(errors[0]!.message).toMatch(/could not record 1 record\(s\) as dead-lettered.*ENOSPC/);
    await first.uploader.close();

    await unlink(letters);
    const second = await openUploader({ endpoint: server.url, directory });
    expect(await second.uploader.flush()).toMatchObject({ complete: true, dead: 1, queued: 0 });
    expect(await second.uploader.deadLetters()).toMatchObject([
      { id: 'conflicted', status: 'conflict', item: { data: 2 } },
    ]);
  });
});
