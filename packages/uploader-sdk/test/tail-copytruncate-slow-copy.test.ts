import { appendFile, open, readFile, rename, writeFile } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { type TailEvents, tailDirectory } from '../src/index.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, numberedLines, storedLineTexts, waitCaughtUp } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** logrotate's copytruncate with a slow copy (a big file, a slow disk): the copy is written in chunks. */
async function slowCopytruncate(path: string, copy: string, chunks: number, pauseMs: number): Promise<void> {
  const source = await readFile(path);
  const out = await open(copy, 'w');
  try {
    const size = Math.ceil(source.length / chunks);
    for (let chunk = 0; chunk < chunks; chunk += 1) {
      await out.write(source.subarray(chunk * size, (chunk + 1) * size));
      await sleep(pauseMs);
    }
  } finally {
    await out.close();
  }
  await writeFile(path, '');
}

// The README's setup for copytruncate: a directory tailer whose include matches the copies. A copy that
// takes longer than the copy wait to be written (3 s here, in ten chunks 300 ms apart) was read as a file
// of its own before its source was truncated: every line stored twice.
describe('copytruncate with a copy written slowly', () => {
  test('stores every line once when the copy takes seconds to be written', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { logs, path } = await appLog();
    const tail = tailDirectory(logs, { uploader, ...fast, include: ['app.log', 'app.log.*'] });
    cleanup.add(() => tail.stop());
    const rotated: TailEvents['rotated'][] = [];
    tail.on('rotated', (event) => rotated.push(event));
    const before = numberedLines('slowcopy-before', 2000);
    await writeFile(path, lines(before));
    await expectStoredExactly(server, before, 10_000);
    await waitCaughtUp(tail);
    // Only in the copy: written after the tailer's last read, before the truncation.
    const window = numberedLines('slowcopy-window', 30);
    await appendFile(path, lines(window));
    await slowCopytruncate(path, `${path}.1`, 10, 300);
    const after = numberedLines('slowcopy-after', 10);
    await appendFile(path, lines(after));
    await expectStoredExactly(server, [...before, ...window, ...after], 10_000);
    expect(rotated.filter((event) => event.reason === 'copied')).toHaveLength(1);
  }, 30_000);
});

// What waiting for a copy must not do: a new live log that begins like the file rotated before it (a
// constant header) keeps growing, but its bytes are not those of that file: it is read after the copy
// wait, not once it stops growing.
describe('a new file that begins like a rotated one and keeps growing', () => {
  test('is read while it grows', async ({ server, cleanup, uploader }) => {
    const { logs, path } = await appLog();
    const tail = tailDirectory(logs, {
      uploader,
      ...fast,
      rotateWaitMs: 20_000,
      include: ['app.log', 'app.log.*'],
    });
    cleanup.add(() => tail.stop());
    const header = 'growing-header constant first line';
    const old = [header, ...numberedLines('growing-old', 2000)];
    await writeFile(path, lines(old));
    await expectStoredExactly(server, old, 10_000);
    await rename(path, `${path}.1`);
    const fresh = [header, ...numberedLines('growing-new', 40)];
    await writeFile(path, lines(fresh.slice(0, 2)));
    const started = Date.now();
    let written = 2;
    let storedWhileGrowing = false;
    while (written < fresh.length) {
      await appendFile(path, lines(fresh.slice(written, written + 1)));
      written += 1;
      await sleep(100);
      const stored = new Set(await storedLineTexts(server));
      if (stored.has(fresh[1]!)) {
        storedWhileGrowing = true;
        break;
      }
    }
    expect(storedWhileGrowing).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_500);
    await appendFile(path, lines(fresh.slice(written)));
    // The header is stored twice: once per file (two records with the same text).
    await expectStoredExactly(server, [...old, ...fresh], 10_000);
  }, 30_000);
});
