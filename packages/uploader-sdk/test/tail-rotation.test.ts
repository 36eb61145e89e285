import { appendFile, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { type TailEvents, tailFile } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import {
  appLog,
  lines,
  numberedLines,
  recreateWithSameInode,
  runRotatingWriter,
  storedLines,
  waitCaughtUp,
} from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };

describe('rotation', () => {
  test('ships every line once when the file is renamed away every 100 ms under a fast writer', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { logs, path } = await appLog('');
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    const rotated: TailEvents['rotated'][] = [];
    tail.on('rotated', (event) => rotated.push(event));
    const { rotations, written } = await runRotatingWriter(logs, path, 12_000, '100ms');
    expect(rotations).toBeGreaterThanOrEqual(5);
    expect(written).toHaveLength(12_000);
    await expectStoredExactly(server, written, 100_000);
    expect(rotated.length).toBeGreaterThanOrEqual(rotations);
    // Every line keeps the name the file had when the tailer first saw it.
    expect(new Set((await storedLines(server)).map((row) => row.file))).toEqual(new Set([path]));
  }, 150_000);

  test('drains a file rotated while the tailer was down from its checkpoint, without reading it again', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const first = numberedLines('first', 100);
    const { path } = await appLog(lines(first));
    const tail = tailFile(path, { uploader, ...fast });
    await waitCaughtUp(tail);
    await tail.stop();
    const checkpointed = (await stat(path)).size;

    const late = numberedLines('late', 50);
    await appendFile(path, lines(late));
    await rename(path, `${path}.1`);
    const fresh = numberedLines('fresh', 30);
    await writeFile(path, lines(fresh));
    const again = tailFile(path, { uploader, ...fast });
    cleanup.add(() => again.stop());
    const opened: TailEvents['opened'][] = [];
    again.on('opened', (event) => opened.push(event));
    await expectStoredExactly(server, [...first, ...late, ...fresh]);
    const resumed = opened.find((event) => event.path === `${path}.1`);
    expect(resumed?.offset).toBe(checkpointed);
    expect(opened.find((event) => event.path === path)?.offset).toBe(0);
  });

  test('reads from 0 a new file created right after the followed one was deleted, within one poll', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const old = numberedLines('old', 40);
    const { path } = await appLog(lines(old));
    const tail = tailFile(path, { uploader, ...fast, pollIntervalMs: 1000 });
    cleanup.add(() => tail.stop());
    await waitCaughtUp(tail);
    await rm(path);
    const fresh = numberedLines('new', 10);
    await writeFile(path, lines(fresh));
    // The tailer holds the deleted file open (its inode cannot be reused yet): the old one is drained apart.
    await expectStoredExactly(server, [...old, ...fresh]);
  });

  test('reads from 0 a new file that reuses a deleted file’s inode and first line while the tailer is stopped', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const old = ['# header', ...numberedLines('old', 40)];
    const { path } = await appLog(lines(old));
    const tail = tailFile(path, { uploader, ...fast });
    await waitCaughtUp(tail);
    await tail.stop();
    const oldIno = (await stat(path)).ino;
    const fresh = ['# header', ...numberedLines('new', 5)];
    await recreateWithSameInode(path, lines(fresh));
    expect((await stat(path)).ino).toBe(oldIno);
    const again = tailFile(path, { uploader, ...fast });
    cleanup.add(() => again.stop());
    await expectStoredExactly(server, [...old, ...fresh]);
  });

  test('reads from 0 a file rewritten in place with its first line and more bytes while the tailer is stopped', async ({
    server,
    cleanup,
    uploader,
  }) => {
    // Same inode, same first line, longer than the checkpoint, a newline at the checkpoint's offset: only
    // the bytes before the checkpoint tell that this is not the file it was.
    const old = ['# header of a rewritten log', ...numberedLines('rewritten-old', 40)];
    const { path } = await appLog(lines(old));
    const tail = tailFile(path, { uploader, ...fast });
    await waitCaughtUp(tail);
    await tail.stop();
    const fresh = ['# header of a rewritten log', ...numberedLines('rewritten-new', 80)];
    await recreateWithSameInode(path, lines(fresh));
    const again = tailFile(path, { uploader, ...fast });
    cleanup.add(() => again.stop());
    const warnings: string[] = [];
    again.on('warning', ({ message }) => warnings.push(message));
    // Both headers: the new file's first line is a line of its own, under its new generation's id.
    await expectStoredExactly(server, [...old, ...fresh]);
    expect(warnings.join('\n')).toMatch(/does not fit the file: it follows other bytes than those read/);
  });

  test('reads again, as a new generation, a file truncated and rewritten in place', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const before = numberedLines('before', 20);
    const { path } = await appLog(lines(before));
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    const truncated: TailEvents['truncated'][] = [];
    tail.on('truncated', (event) => truncated.push(event));
    await waitCaughtUp(tail);
    // Shorter, same first line: found by the size.
    const shorter = [before[0]!, 'rewritten-1', 'rewritten-2'];
    await truncate(path, 0);
    await writeFile(path, lines(shorter));
    await expectStoredExactly(server, [...before, ...shorter]);
    await waitCaughtUp(tail);
    // Longer, another first line, rewritten faster than a poll: found by the fingerprint.
    const longer = numberedLines('longer', 40);
    await writeFile(path, lines(longer));
    await expectStoredExactly(server, [...before, ...shorter, ...longer]);
    expect(truncated.length).toBeGreaterThanOrEqual(2);
  });

  test('never trusts a checkpoint offset beyond the end of the file', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const text = numberedLines('l', 25);
    const { path } = await appLog(lines(text));
    const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
    const tail = tailFile(path, { uploader, ...fast, checkpointDirectory: checkpoints });
    await waitCaughtUp(tail);
    await tail.stop();
    await uploader.flush();
    await server.query('delete from items where source = $1', [server.source]);
    const [name] = await readdir(checkpoints);
    const file = join(checkpoints, name!);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { entries: { offset: number }[] };
    saved.entries[0]!.offset = 10_000_000;
    await writeFile(file, JSON.stringify(saved));

    const again = tailFile(path, { uploader, ...fast, checkpointDirectory: checkpoints });
    cleanup.add(() => again.stop());
    const warnings: string[] = [];
    again.on('warning', (event) => warnings.push(event.message));
    await expectStoredExactly(server, text);
    expect(warnings.join('\n')).toMatch(/does not fit the file/);
  });
});
