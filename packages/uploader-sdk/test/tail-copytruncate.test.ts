import { appendFile, copyFile, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import { describe, expect } from 'vitest';
import { type Tail, type TailEvents, tailDirectory, tailFile, type Uploader } from '../src/index.js';
import { type Cleanup, tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import {
  appLog,
  lines,
  numberedLines,
  runRotatingWriter,
  storedLines,
  waitCaughtUp,
} from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };

type Start = (logs: string, options: Parameters<typeof tailFile>[1]) => Tail;

/** The ways a copy can be found: among the files a directory tailer follows, or looked for apart. */
const setups: [string, Start][] = [
  ['tailDirectory, copies included', (logs, options) => tailDirectory(logs, options)],
  [
    'tailDirectory, copies left out of include',
    (logs, options) => tailDirectory(logs, { ...options, include: 'app.log' }),
  ],
  ['tailFile', (logs, options) => tailFile(join(logs, 'app.log'), options)],
];

/**
 * Tails 100 lines into `server` with a checkpoint directory of its own, then stops: a tailer that was
 * down when what the test does next happens. Returns what to start it again with.
 */
async function shipThenStop(start: Start, server: TestServer, cleanup: Cleanup, uploader: Uploader) {
  const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
  const { logs, path } = await appLog();
  const options = { uploader, checkpointDirectory, ...fast };
  const tail = start(logs, options);
  cleanup.add(() => tail.stop());
  const before = numberedLines('before', 100);
  await writeFile(path, lines(before));
  await expectStoredExactly(server, before, 8_000);
  await waitCaughtUp(tail);
  await tail.stop();
  return { logs, path, options, before };
}

/** logrotate's copytruncate: copy the file, then truncate it in place. */
async function copytruncate(path: string, copy: string): Promise<void> {
  await copyFile(path, copy);
  await truncate(path, 0);
}

// The issue asks for copytruncate "without losing or duplicating lines". The lines written between the
// tailer's last read and the truncation are only in the copy; a directory tailer follows the copy (a new
// inode, so a new fingerprint) and, before, read it from 0 under new ids: every line stored twice. The
// copy is now read under the truncated generation's ids from where reading of it stood.
describe.each(setups)('copytruncate, %s', (_name, start) => {
  test('stores every line once: lines read before, the window only in the copy, lines after', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { logs, path } = await appLog();
    const tail = start(logs, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    const rotated: TailEvents['rotated'][] = [];
    tail.on('rotated', (event) => rotated.push(event));
    const expected: string[] = [];
    await writeFile(path, '');
    for (let round = 0; round < 3; round += 1) {
      const read = numberedLines(`read${round}`, 50);
      await appendFile(path, lines(read));
      expected.push(...read);
      // Read, and checkpointed (stats lag behind the file: waitCaughtUp alone may return before).
      await expectStoredExactly(server, expected, 8_000);
      await waitCaughtUp(tail);
      // Written and rotated at once: the tailer has not read them when the file is truncated.
      const window = numberedLines(`window${round}`, 20);
      await appendFile(path, lines(window));
      await copytruncate(path, `${path}.${round + 1}`);
      expected.push(...window);
      const after = numberedLines(`after${round}`, 10);
      await appendFile(path, lines(after));
      expected.push(...after);
      await expectStoredExactly(server, expected, 8_000);
    }
    expect(rotated.filter((event) => event.reason === 'copied')).toHaveLength(3);
    // The copies' lines are stored as lines of the file they were copied from.
    expect(new Set((await storedLines(server)).map((row) => row.file))).toEqual(new Set([path]));
  });

  // Without `after`, the truncated file stays empty (the app stopped writing, or writes rarely): the lines
  // only in the copy must not wait for the file to grow again.
  test.for([
    ['lines written since', 20],
    ['nothing written since', 0],
  ] as const)(
    'stores every line once when the tailer was down across the copytruncate, %s',
    async ([, afterCount], { server, cleanup, uploader }) => {
      const { logs, path, options, before } = await shipThenStop(start, server, cleanup, uploader);

      const window = numberedLines('window', 30);
      await appendFile(path, lines(window));
      await copytruncate(path, `${path}.1`);
      const after = numberedLines('after', afterCount);
      if (after.length > 0) await appendFile(path, lines(after));
      const again = start(logs, options);
      cleanup.add(() => again.stop());
      const opened: TailEvents['opened'][] = [];
      again.on('opened', (event) => opened.push(event));
      await expectStoredExactly(server, [...before, ...window, ...after], 8_000);
      // The copy was read from where reading of the truncated generation stood, not from its start.
      expect(opened.find((event) => event.path === `${path}.1`)?.offset).toBe(
        Buffer.byteLength(lines(before)),
      );
      const stored = await storedLines(server);
      expect(new Set(stored.map((row) => row.file))).toEqual(new Set([path]));
    },
  );
});

// An older rotation with the same first line (a header, a banner) and bytes enough is no copy of the
// generation just truncated: the newest matching file is.
describe.each(setups.slice(1))(
  'copytruncate beside older rotations that start the same, %s',
  (_name, start) => {
    test('reads the lines of the real copy, not of an older file that starts the same', async ({
      server,
      cleanup,
      uploader,
    }) => {
      const { logs, path, options, before } = await shipThenStop(start, server, cleanup, uploader);

      // Yesterday's rotation: the same lines at first, then others; last written an hour ago.
      const older = join(logs, 'app.log.0');
      await writeFile(older, lines([...before, ...numberedLines('yesterday', 30)]));
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(older, hourAgo, hourAgo);
      const window = numberedLines('window', 30);
      await appendFile(path, lines(window));
      await copytruncate(path, `${path}.1`);
      const after = numberedLines('after', 20);
      await appendFile(path, lines(after));
      const again = start(logs, options);
      cleanup.add(() => again.stop());
      await expectStoredExactly(server, [...before, ...window, ...after], 8_000);
    });

    // Another log that starts the same and is still written to is newer than any copy: the copy was
    // written before its truncation was found, so the live log is never taken for it.
    test('reads the lines of the real copy, not of another log written since', async ({
      server,
      cleanup,
      uploader,
    }) => {
      const { logs, path, options, before } = await shipThenStop(start, server, cleanup, uploader);
      const other = join(logs, 'other.out');
      await writeFile(other, lines([...before, ...numberedLines('other', 30)]));
      const window = numberedLines('window', 30);
      await appendFile(path, lines(window));
      await copytruncate(path, `${path}.1`);
      const after = numberedLines('after', 20);
      await appendFile(path, lines(after));
      const inAnHour = new Date(Date.now() + 3_600_000);
      await utimes(other, inAnHour, inAnHour);
      const again = start(logs, options);
      cleanup.add(() => again.stop());
      await expectStoredExactly(server, [...before, ...window, ...after], 8_000);
    });
  },
);

// Only where copies are followed: with tailFile, or copies left out of include, a copy is looked for only
// for a generation the tailer has read some of; a generation truncated before it got to it (100 ms here,
// a loaded machine) is in no file it follows (the known limit in the README).
describe.each(setups.slice(0, 1))('copytruncate under load, %s', (_name, start) => {
  test('stores every line once when the file is copied and truncated every 100 ms under a fast writer', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { logs, path } = await appLog('');
    const tail = start(logs, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    const { rotations, written } = await runRotatingWriter(logs, path, 12_000, 'copy100ms');
    expect(rotations).toBeGreaterThanOrEqual(5);
    expect(written).toHaveLength(12_000);
    await expectStoredExactly(server, written, 40_000);
  }, 60_000);
});
