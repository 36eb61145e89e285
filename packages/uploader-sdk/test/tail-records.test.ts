import { appendFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { type TailEvents, tailFile } from '../src/index.js';
import { openUploader, tempDirectory, waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { storedLines, storedLineTexts, waitCaughtUp } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lines = (text: readonly string[]): string => `${text.join('\n')}\n`;
const startPattern = /^\d{4}-\d\d-\d\d /;

describe('multiline records', () => {
  test('groups continuation lines under the line that starts a record, and sends the last one after the idle timeout', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await writeFile(path, lines(['2026-11-23 boom', '  at a()', '  at b()', '2026-11-23 next', '  at c()']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, ...fast, startPattern, multilineTimeoutMs: 300 });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, ['2026-11-23 boom\n  at a()\n  at b()', '2026-11-23 next\n  at c()']);
  });

  test('never saves a checkpoint inside a pending record: a restart completes it', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    const first = '2026-11-23 first';
    await writeFile(path, lines([first, '2026-11-23 pending', '  at p1()']));
    const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const options = {
      uploader,
      ...fast,
      startPattern,
      multilineTimeoutMs: 60_000,
      checkpointDirectory: checkpoints,
    };
    const tail = tailFile(path, options);
    await expectStoredExactly(server, [first]);
    await tail.stop();
    const [name] = await readdir(checkpoints);
    const saved = JSON.parse(await readFile(join(checkpoints, name!), 'utf8')) as {
      entries: { offset: number }[];
    };
    expect(saved.entries[0]!.offset).toBe(Buffer.byteLength(`${first}\n`));

    await appendFile(path, lines(['  at p2()', '2026-11-23 last']));
    const again = tailFile(path, options);
    cleanup.add(() => again.stop());
    await expectStoredExactly(server, [first, '2026-11-23 pending\n  at p1()\n  at p2()']);
  });

  test('never lets a record span two files: a rotated file’s pending record is sent when it is let go', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await writeFile(path, lines(['2026-11-23 old', '  at old()']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, ...fast, startPattern, multilineTimeoutMs: 60_000 });
    cleanup.add(() => tail.stop());
    await waitFor(() => tail.stats().files.length === 1 && tail.stats().files[0]!.position > 0);
    await rename(path, `${path}.1`);
    await writeFile(path, lines(['  at orphan()', '2026-11-23 new', '2026-11-23 newer']));
    await expectStoredExactly(server, ['2026-11-23 old\n  at old()', '  at orphan()', '2026-11-23 new']);
  });
});

/** The files of `directory` as they are now on disk. */
async function snapshot(directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(directory)) files.set(name, await readFile(join(directory, name)));
  return files;
}

/** Puts `directory` back to a {@link snapshot}: what a process killed at that moment would have left. */
async function restore(directory: string, files: Map<string, Buffer>): Promise<void> {
  for (const name of await readdir(directory)) await rm(join(directory, name));
  for (const [name, bytes] of files) await writeFile(join(directory, name), bytes);
}

describe('multiline records read again after a crash', () => {
  test('a record the idle timeout sent keeps its end: continuation lines written after it are a record of their own, not a conflicting regrouping of the same id', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await writeFile(path, lines(['2026-11-23 boom', '  at a()']));
    const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
    const directory = await tempDirectory();
    const options = {
      ...fast,
      // No save of the moved checkpoint for a minute: a kill -9 in that minute leaves the one on disk.
      checkpointIntervalMs: 60_000,
      startPattern,
      multilineTimeoutMs: 200,
      checkpointDirectory: checkpoints,
    };
    const first = await openUploader(cleanup, { endpoint: server.url, directory });
    const tail = tailFile(path, { uploader: first.uploader, ...options });
    await expectStoredExactly(server, ['2026-11-23 boom\n  at a()']);
    const onDisk = await snapshot(checkpoints);
    await tail.stop();
    await first.uploader.close();
    await restore(checkpoints, onDisk);

    await appendFile(path, lines(['  at b()']));
    const again = await openUploader(cleanup, { endpoint: server.url, directory });
    const dead: TailEvents['dead'][] = [];
    const second = tailFile(path, { uploader: again.uploader, ...options });
    second.on('dead', (event) => dead.push(event));
    cleanup.add(() => second.stop());
    await expectStoredExactly(server, ['2026-11-23 boom\n  at a()', '  at b()']);
    await again.uploader.flush();
    expect(again.uploader.stats().dead).toBe(0);
    expect(dead).toEqual([]);
  });

  test('the rest of a record cut at maxLineBytes is flagged truncated whether read straight on or from a checkpoint at its start', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    // 15 + 1 + 8 bytes: past maxLineBytes 16, so '  at a()' goes on as a second record, flagged truncated.
    await writeFile(path, lines(['2026-11-23 boom', '  at a()']));
    const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const options = { uploader, ...fast, startPattern, maxLineBytes: 16, checkpointDirectory: checkpoints };
    const tail = tailFile(path, { ...options, multilineTimeoutMs: 60_000 });
    await expectStoredExactly(server, ['2026-11-23 boom']);
    await tail.stop(); // the checkpoint is now the start of '  at a()', pending
    const again = tailFile(path, { ...options, multilineTimeoutMs: 100 });
    cleanup.add(() => again.stop());
    await expectStoredExactly(server, ['2026-11-23 boom', '  at a()']);
    expect((await storedLines(server)).map(({ line, truncated }) => ({ line, truncated }))).toEqual([
      { line: '2026-11-23 boom', truncated: true },
      { line: '  at a()', truncated: true },
    ]);
  });
});

describe('json lines', () => {
  test('parses each line into data.json and dead-letters a line that is not JSON, with the reason', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await writeFile(path, lines(['{"level":"info","n":1}', 'not json {', '{"level":"warn","n":2}']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, ...fast, json: true });
    cleanup.add(() => tail.stop());
    const dead: TailEvents['dead'][] = [];
    tail.on('dead', (event) => dead.push(event));
    await expectStoredExactly(server, ['{"level":"info","n":1}', '{"level":"warn","n":2}']);
    expect((await storedLines(server)).map((row) => row.json)).toEqual([
      { level: 'info', n: 1 },
      { level: 'warn', n: 2 },
    ]);
    const letters = await uploader.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      kind: 'record',
      type: 'log',
      status: 'unsendable',
      reason: { code: 'INVALID_JSON' },
      item: { data: { line: 'not json {', file: path } },
    });
    expect(dead.map((event) => event.id)).toEqual([letters[0]!.id]);
    // The letter keeps the raw line and can be sent as it is.
    await uploader.requeue([letters[0]!.id]);
    await expectStoredExactly(server, ['{"level":"info","n":1}', 'not json {', '{"level":"warn","n":2}']);
  });
});

describe('lines the uploader refuses', () => {
  test('dead-letters a line with a NUL (no storable JSON form) with the reason, and ships the others', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await writeFile(path, lines(['before', 'bad\u0000byte', 'after']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, ['before', 'after']);
    const letters = await uploader.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ status: 'unsendable', reason: { code: 'UNSENDABLE' } });
    expect(tail.stats().dead).toBe(1);
  });
});

describe('long lines', () => {
  test('sends a line over maxLineBytes as pieces flagged truncated, cut on character boundaries', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    const long = `a${'é'.repeat(3000)}`; // 6001 bytes: an odd cut would fall inside a character
    await writeFile(path, lines(['short', long, 'after']));
    const { uploader } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, ...fast, maxLineBytes: 1024 });
    cleanup.add(() => tail.stop());
    await waitFor(async () => (await storedLines(server)).some((row) => row.line === 'after'));
    await waitCaughtUp(tail);
    await sleep(300);
    const rows = await storedLines(server);
    const pieces = rows.filter((row) => row.truncated);
    expect(pieces.length).toBeGreaterThanOrEqual(6);
    expect(pieces.every((row) => Buffer.byteLength(row.line) <= 1024)).toBe(true);
    expect(pieces.map((row) => row.line).join('')).toBe(long);
    expect(rows.filter((row) => !row.truncated).map((row) => row.line)).toEqual(['short', 'after']);
  });
});

describe('damaged checkpoints', () => {
  for (const [what, text] of [
    ['empty', ''],
    ['truncated', '{"version":1,"entries":[{"fingerprint":"'],
    ['garbage', '\u0000\u0001garbage'],
    ['invalid entries', '{"version":1,"entries":[{"fingerprint":1,"offset":-5}]}'],
  ] as const) {
    test(`warns about a checkpoint file that is ${what}, reads from the start, and stores no line twice`, async ({
      server,
      cleanup,
    }) => {
      const logs = await tempDirectory('sluice-tail-');
      const path = join(logs, 'app.log');
      await writeFile(path, lines(['one', 'two']));
      const checkpoints = await tempDirectory('sluice-tail-checkpoints-');
      const { uploader } = await openUploader(cleanup, { endpoint: server.url });
      const options = { uploader, ...fast, checkpointDirectory: checkpoints };
      const tail = tailFile(path, options);
      await expectStoredExactly(server, ['one', 'two']);
      await tail.stop();
      const [name] = await readdir(checkpoints);
      await writeFile(join(checkpoints, name!), text);

      const again = tailFile(path, options);
      cleanup.add(() => again.stop());
      const warnings: string[] = [];
      again.on('warning', (event) => warnings.push(event.message));
      await appendFile(path, 'three\n');
      await expectStoredExactly(server, ['one', 'two', 'three']);
      expect(warnings.length).toBeGreaterThan(0);
      await uploader.flush();
      expect(await storedLineTexts(server)).toEqual(['one', 'three', 'two']);
    });
  }
});
