import { readdirSync, readlinkSync } from 'node:fs';
import { appendFile, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { type TailEvents, tailDirectory } from '../src/index.js';
import { tempDirectory, waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import {
  appLog,
  lines,
  numberedLines,
  recreateWithSameInode,
  storedLines,
  waitCaughtUp,
} from './support/tail-harness.js';

const fast = { pollIntervalMs: 30, rotateWaitMs: 200, checkpointIntervalMs: 20 };

/** Descriptors this process holds open on files in `directory`. */
function openDescriptorsIn(directory: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${directory}/`)) count += 1;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

describe('tailDirectory', () => {
  test('follows the dated files matching include and not exclude, new ones included', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const day22 = numberedLines('d22', 30);
    const day23 = numberedLines('d23', 20);
    await writeFile(join(logs, 'app-2026-11-22.log'), lines(day22));
    await writeFile(join(logs, 'app-2026-11-23.log'), lines(day23));
    await writeFile(join(logs, 'notes.txt'), 'not a log\n');
    await writeFile(join(logs, 'app-debug.log'), 'excluded\n');
    const tail = tailDirectory(logs, { uploader, include: '*.log', exclude: 'app-debug*', ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, [...day22, ...day23]);

    const more23 = numberedLines('d23-more', 10);
    await appendFile(join(logs, 'app-2026-11-23.log'), lines(more23));
    const day24 = numberedLines('d24', 15);
    await writeFile(join(logs, 'app-2026-11-24.log'), lines(day24));
    await expectStoredExactly(server, [...day22, ...day23, ...more23, ...day24]);
    const files = new Set((await storedLines(server)).map((row) => row.file));
    expect(files).toEqual(
      new Set(
        ['app-2026-11-22.log', 'app-2026-11-23.log', 'app-2026-11-24.log'].map((name) => join(logs, name)),
      ),
    );
  });

  test('tells apart two files whose first KiB is identical', async ({ server, cleanup, uploader }) => {
    const logs = await tempDirectory('sluice-tail-');
    const header = `# ${'h'.repeat(1500)}`;
    await writeFile(join(logs, 'a.log'), lines([header, 'a-1', 'a-2']));
    await writeFile(join(logs, 'b.log'), lines([header, 'b-1', 'b-2']));
    const tail = tailDirectory(logs, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, [header, 'a-1', 'a-2', header, 'b-1', 'b-2']);
    const fingerprints = new Set(tail.stats().files.map((file) => file.fingerprint));
    expect(fingerprints.size).toBe(2);
  });

  test('reads from 0 a file that got a closed idle file’s inode, deleted and created within one poll', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const old = numberedLines('old', 30);
    const { logs, path } = await appLog(lines(old));
    const tail = tailDirectory(logs, { uploader, ...fast, pollIntervalMs: 500, idleTimeoutMs: 50 });
    cleanup.add(() => tail.stop());
    await waitCaughtUp(tail);
    await waitFor(() => tail.stats().files.every((file) => !file.open));
    const oldIno = (await stat(path)).ino;
    const fresh = numberedLines('fresh', 50);
    await recreateWithSameInode(path, lines(fresh));
    expect((await stat(path)).ino).toBe(oldIno);
    await expectStoredExactly(server, [...old, ...fresh]);
  });

  test('drains a closed idle file that grew and was renamed out of the pattern within one poll', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const old = numberedLines('old', 20);
    const { logs, path } = await appLog(lines(old));
    const tail = tailDirectory(logs, {
      uploader,
      ...fast,
      include: '*.log',
      pollIntervalMs: 500,
      idleTimeoutMs: 50,
    });
    cleanup.add(() => tail.stop());
    await waitCaughtUp(tail);
    await waitFor(() => tail.stats().files.every((file) => !file.open));
    const last = numberedLines('last', 5);
    await appendFile(path, lines(last));
    await rename(path, `${path}.1`);
    await expectStoredExactly(server, [...old, ...last]);
  });

  test('treats a rename within the directory as a rotation: drained, its unterminated line sent, resumed after it', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { logs, path } = await appLog('a\nb\npartial');
    const tail = tailDirectory(logs, { uploader, ...fast, include: 'app.log*' });
    const released: string[] = [];
    tail.on('released', (event) => released.push(event.path));
    await expectStoredExactly(server, ['a', 'b']);
    await rename(path, `${path}.1`);
    await writeFile(path, 'c\n');
    await expectStoredExactly(server, ['a', 'b', 'partial', 'c']);
    // Let go once its checkpoint is saved, which can come just after its last line is stored.
    await waitFor(() => released.length > 0, 10_000);
    expect(released).toEqual([`${path}.1`]);
    await tail.stop();
    // Its checkpoint ends the unterminated line sent: a later append is read from there, nothing twice.
    await appendFile(`${path}.1`, '\nlate\n');
    const again = tailDirectory(logs, { uploader, ...fast, include: 'app.log*' });
    cleanup.add(() => again.stop());
    await expectStoredExactly(server, ['a', 'b', 'partial', 'c', '', 'late']);
  });

  test('keeps thousands of files under the descriptor cap, closing the least recently active, checkpoints kept', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const expected: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      const text = [`file-${i}-line-0`, `file-${i}-line-1`];
      expected.push(...text);
      await writeFile(join(logs, `f-${String(i).padStart(4, '0')}.log`), lines(text));
    }
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, openDescriptorsIn(logs));
    }, 5);
    const tail = tailDirectory(logs, { uploader, ...fast, pollIntervalMs: 200, maxOpenFiles: 16 });
    try {
      await expectStoredExactly(server, expected, 100_000);
      await waitCaughtUp(tail);
    } finally {
      clearInterval(sampler);
      await tail.stop();
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(16);
    expect(openDescriptorsIn(logs)).toBe(0);

    // Restarted, every file resumes at its end: nothing is read again.
    const again = tailDirectory(logs, { uploader, ...fast, pollIntervalMs: 200, maxOpenFiles: 16 });
    cleanup.add(() => again.stop());
    const opened: TailEvents['opened'][] = [];
    again.on('opened', (event) => opened.push(event));
    await waitFor(() => opened.length === 1000, 30_000);
    for (const event of opened) expect(event.offset).toBe((await stat(event.path)).size);
  }, 150_000);

  test('reads a bounded number of bytes from a large backlog before other files get their turn', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const big = join(logs, 'big.log');
    const bigLines = numberedLines('big', 30_000);
    await writeFile(big, lines(bigLines));
    const small = join(logs, 'small.log');
    await writeFile(small, 'small-0\n');
    const tail = tailDirectory(logs, { uploader, ...fast, maxReadBytes: 64 * 1024 });
    cleanup.add(() => tail.stop());
    const statsOf = (path: string) => tail.stats().files.find((file) => file.path === path);
    await waitFor(() => statsOf(small)?.lines === 1);
    await appendFile(small, 'small-1\n');
    await waitFor(() => statsOf(small)?.lines === 2);
    const { size } = await stat(big);
    expect(statsOf(big)!.bytesRead).toBeLessThan(size);
    await expectStoredExactly(server, [...bigLines, 'small-0', 'small-1'], 50_000);
  }, 60_000);

  test('forgets the checkpoints of files gone longer than checkpointTtlMs', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    await writeFile(join(logs, 'gone.log'), 'gone-0\n');
    await writeFile(join(logs, 'kept.log'), 'kept-0\n');
    const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
    const tail = tailDirectory(logs, {
      uploader,
      ...fast,
      checkpointDirectory: checkpoints,
      checkpointTtlMs: 400,
    });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, ['gone-0', 'kept-0']);
    const entries = async () => {
      const [name] = await readdir(checkpoints);
      const saved = JSON.parse(await readFile(join(checkpoints, name!), 'utf8')) as {
        entries: { file: string }[];
      };
      return saved.entries.map((entry) => entry.file).sort();
    };
    expect(await entries()).toEqual([join(logs, 'gone.log'), join(logs, 'kept.log')]);
    await rm(join(logs, 'gone.log'));
    await waitFor(async () => (await entries()).length === 1, 10_000);
    expect(await entries()).toEqual([join(logs, 'kept.log')]);
  });
});
