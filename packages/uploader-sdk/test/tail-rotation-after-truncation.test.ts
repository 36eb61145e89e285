import { appendFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { type TailEvents, tailFile } from '../src/index.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, numberedLines, waitCaughtUp } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };

// Found by a chaos control run (tooling/chaos, issue 11, seed 7 with the tailer following app.log only):
// after a truncation whose new first line gives the file a new fingerprint, the checkpoint keeps the old
// entry with its large offset and the same inode. Tailer#recoverRotated takes the largest offset of all
// entries of an inode, so a file rotated (renamed) while the tailer was down, with fewer bytes than that
// old offset, is taken as fully read and skipped: the lines after its checkpoint are lost.
describe('rotation while the tailer was down, of a file truncated before', () => {
  test('drains the rotated file from its checkpoint', async ({ server, cleanup, uploader }) => {
    const { path } = await appLog();
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    // A long first life, then copytruncate: the inode keeps a checkpoint entry with a large offset.
    const long = numberedLines('long', 300);
    await writeFile(path, lines(long));
    await waitCaughtUp(tail);
    await truncate(path, 0);
    const second = numberedLines('second', 20);
    await appendFile(path, lines(second));
    await expectStoredExactly(server, [...long, ...second], 8_000);
    await waitCaughtUp(tail);
    await tail.stop();
    const checkpointed = (await stat(path)).size;

    // While the tailer is down: more lines, then rename + create.
    const late = numberedLines('late', 30);
    await appendFile(path, lines(late));
    await rename(path, `${path}.1`);
    const fresh = numberedLines('fresh', 10);
    await writeFile(path, lines(fresh));
    const again = tailFile(path, { uploader, ...fast });
    cleanup.add(() => again.stop());
    const opened: TailEvents['opened'][] = [];
    again.on('opened', (event) => opened.push(event));
    await expectStoredExactly(server, [...long, ...second, ...late, ...fresh], 8_000);
    expect(opened.find((event) => event.path === `${path}.1`)?.offset).toBe(checkpointed);
  });
});

describe('rotation while the tailer was down, of a file that shrank', () => {
  test('reads the rotated file as a new generation: an offset beyond its end is not trusted', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path } = await appLog();
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    const header = 'header';
    const first = numberedLines('first', 100);
    await writeFile(path, lines([header, ...first]));
    await expectStoredExactly(server, [header, ...first], 8_000);
    await waitCaughtUp(tail);
    await tail.stop();

    // While the tailer is down: rewritten shorter with the same first line (same fingerprint), then
    // rename + create. The rotated file has fewer bytes than its checkpoint covers.
    const rewritten = numberedLines('rewritten', 5);
    await writeFile(path, lines([header, ...rewritten]));
    await rename(path, `${path}.1`);
    const fresh = numberedLines('fresh', 10);
    await writeFile(path, lines(fresh));
    const again = tailFile(path, { uploader, ...fast });
    cleanup.add(() => again.stop());
    const truncated: TailEvents['truncated'][] = [];
    again.on('truncated', (event) => truncated.push(event));
    await expectStoredExactly(server, [header, ...first, header, ...rewritten, ...fresh], 8_000);
    expect(truncated.map((event) => event.generation)).toEqual([1]);
  });
});
