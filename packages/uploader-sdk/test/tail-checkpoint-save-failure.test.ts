import { appendFile, mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { tailFile } from '../src/index.js';
import { tempDirectory, waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, numberedLines, waitForStored } from './support/tail-harness.js';

// Found by the chaos run (tooling/chaos, issue 11): the log client's queue directory is the one that
// fills up during `disk-full`; a checkpoint write then failed with ENOSPC and the tailer stopped for
// good (its process, with nothing else holding it, exited 0). The README says an `error` is reported
// and reading goes on at the next poll unless the uploader was closed.
describe('tailer: a checkpoint write that fails', () => {
  test('is reported, and the tailer goes on once checkpoints can be written again', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
    const first = numberedLines('a', 20);
    const { path } = await appLog(lines(first));
    const tail = tailFile(path, {
      uploader,
      checkpointDirectory,
      pollIntervalMs: 20,
      checkpointIntervalMs: 20,
    });
    cleanup.add(() => tail.stop());
    const errors: Error[] = [];
    tail.on('error', (error) => errors.push(error));
    await waitForStored(server, 20);

    // Checkpoint writes fail (as on a full disk): writeFileAtomic cannot open `<checkpoint>.tmp`.
    const [checkpoint] = (await readdir(checkpointDirectory)).filter((name) => name.endsWith('.json'));
    const blocker = join(checkpointDirectory, `${checkpoint}.tmp`);
    await mkdir(blocker);
    const second = numberedLines('b', 20);
    await appendFile(path, lines(second));
    await waitFor(() => errors.length > 0);

    // The disk has room again: the lines appended since must still be shipped.
    await rmdir(blocker);
    const third = numberedLines('c', 20);
    await appendFile(path, lines(third));
    expect(tail.stats().stopped).toBe(false);
    await expectStoredExactly(server, [...first, ...second, ...third], 8_000);
  });
});
