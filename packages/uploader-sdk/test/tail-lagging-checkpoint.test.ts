import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import { describe, expect } from 'vitest';
import { type TailOptions, tailFile, type Uploader } from '../src/index.js';
import { tempDirectory, waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, numberedLines, storedLines, waitCaughtUp } from './support/tail-harness.js';

// Found by the chaos run: a tailer killed after it enqueued lines but before its checkpoint moved past
// them left a checkpoint (offset, ts) behind what its queue held. The next process read those lines again
// (right: same ids) but renewed the records' `ts` before it had read them (its first save failed on a
// full disk, or its first turn read only `maxReadBytes`): same ids with another `ts`, which the server
// answers IDEMPOTENCY_CONFLICT, and the lines were dead-lettered. A `ts` may only be renewed once every
// line that may already have been enqueued under the old one is behind the checkpoint.

/**
 * Tails `lineCount` lines into `uploader` until they are stored, then stops, and puts back the checkpoint
 * file as it was first written (offset 0): what a crash between enqueueing and saving leaves on disk.
 */
async function enqueueThenLoseCheckpoint(
  server: TestServer,
  uploader: Uploader,
  expected: readonly string[],
): Promise<{ path: string; checkpointDirectory: string }> {
  const { path } = await appLog(lines(expected));
  const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
  const first = tailFile(path, {
    uploader,
    checkpointDirectory,
    pollIntervalMs: 20,
    checkpointIntervalMs: 60_000,
  });
  let saved: { name: string; text: string } | undefined;
  await waitFor(async () => {
    const [name] = (await readdir(checkpointDirectory)).filter((file) => file.endsWith('.json'));
    if (name !== undefined) saved = { name, text: await readFile(join(checkpointDirectory, name), 'utf8') };
    return saved !== undefined;
  }, 5_000);
  await expectStoredExactly(server, expected);
  await first.stop();
  const { name, text } = saved!;
  expect(JSON.stringify(JSON.parse(text))).toContain('"offset":0');
  await writeFile(join(checkpointDirectory, name), text);
  // The checkpoint's `ts` is now older than the tailer's renewal period.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return { path, checkpointDirectory };
}

async function expectNoConflicts(uploader: Uploader): Promise<void> {
  await uploader.flush();
  expect((await uploader.deadLetters()).map((letter) => `${letter.id} ${letter.reason.code}`)).toEqual([]);
}

describe('tailer: a checkpoint behind what the queue holds (crash before the save)', () => {
  test('lines read again while the first save fails keep their ts', async ({ server, cleanup, uploader }) => {
    const expected = numberedLines('crash-full', 40);
    const { path, checkpointDirectory } = await enqueueThenLoseCheckpoint(server, uploader, expected);

    // The restarted tailer cannot save (a full disk) for a while.
    const [name] = (await readdir(checkpointDirectory)).filter((file) => file.endsWith('.json'));
    const blocker = join(checkpointDirectory, `${name}.tmp`);
    await mkdir(blocker);
    const second = tailFile(path, {
      uploader,
      checkpointDirectory,
      pollIntervalMs: 20,
    } satisfies TailOptions);
    cleanup.add(() => second.stop());
    const errors: Error[] = [];
    second.on('error', (error) => errors.push(error));
    await waitFor(() => errors.length >= 3, 5_000);
    await rmdir(blocker);

    await waitCaughtUp(second);
    await expectNoConflicts(uploader);
    await expectStoredExactly(server, expected);
  });

  test('lines read again over several bounded turns keep their ts', async ({ server, cleanup, uploader }) => {
    const expected = numberedLines('crash-bounded', 60);
    const { path, checkpointDirectory } = await enqueueThenLoseCheckpoint(server, uploader, expected);

    // The backlog is drained a few hundred bytes per turn, over more than the renewal period.
    const second = tailFile(path, { uploader, checkpointDirectory, pollIntervalMs: 50, maxReadBytes: 256 });
    cleanup.add(() => second.stop());
    await waitCaughtUp(second);
    await expectNoConflicts(uploader);
    await expectStoredExactly(server, expected);
  });

  // A multiline record whose last line is over `maxLineBytes`: its first pieces are shipped as they are
  // cut, while the checkpoint stays at the start of the line (the record is still pending). The ts must
  // not be renewed under them, or reading them again after a restart makes the same ids with another ts.
  test('pieces of a long line shipped ahead of a pending multiline record keep their ts', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path } = await appLog(`1 aaaa\n2${'b'.repeat(39)}\n`);
    const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
    const options = {
      uploader,
      checkpointDirectory,
      pollIntervalMs: 20,
      checkpointIntervalMs: 20,
      startPattern: /^\d/,
      maxLineBytes: 16,
    };
    const delivered = (count: number) =>
      waitFor(async () => {
        await uploader.flush();
        return uploader.stats().delivered >= count;
      }, 5_000);
    const first = tailFile(path, { ...options, multilineTimeoutMs: 60_000 });
    await delivered(3);
    // Longer than the renewal period, with the last piece's record still pending.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await first.stop();
    const second = tailFile(path, { ...options, multilineTimeoutMs: 100 });
    cleanup.add(() => second.stop());
    await delivered(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expectNoConflicts(uploader);
    // The first record, then the long line's three pieces, each stored once.
    expect((await storedLines(server)).map((row) => row.offset)).toEqual([0, 7, 23, 39]);
  });
});
