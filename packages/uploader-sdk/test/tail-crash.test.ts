import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, copyFile, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { tailFile } from '../src/index.js';
import { openUploader, tempDirectory, waitFor } from './support/harness.js';
import { test } from './support/tail-fixture.js';
import { storedLines, storedLineTexts, waitCaughtUp } from './support/tail-harness.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const tailChild = fileURLToPath(new URL('./support/tail-child.ts', import.meta.url));
const writerChild = fileURLToPath(new URL('./support/tail-writer-child.ts', import.meta.url));

function run(
  script: string,
  args: string[],
): { proc: ChildProcess; line: Promise<string>; exited: Promise<unknown> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const line = new Promise<string>((resolve) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
  });
  return { proc, line, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every line the writer wrote, read back from the files it wrote (rotated ones included). */
async function linesWritten(paths: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const path of paths) {
    const text = await readFile(path, 'utf8');
    lines.push(...text.split('\n').slice(0, -1));
  }
  return lines;
}

describe('tailing through crashes and rotations', () => {
  test('ships every line exactly once while a writer appends and rotates (rename, then copytruncate) and the tailer is SIGKILLed twice', async ({
    server,
    cleanup,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const path = join(logs, 'app.log');
    await appendFile(path, '');
    const directory = await tempDirectory();
    // 6000 lines, renamed away to app.log.1 and .2 every 2500, with an unterminated last line.
    const writer = run(writerChild, [path, 'w', '6000', '2500', 'unterminated']);
    for (let kill = 0; kill < 2; kill += 1) {
      const tailer = run(tailChild, [directory, server.url, path]);
      expect(await tailer.line).toBe('ready');
      await sleep(900);
      tailer.proc.kill('SIGKILL');
      await tailer.exited;
    }
    // The killed tailers had shipped part of the file: the restarts resume mid-way, not from nothing.
    expect((await storedLines(server)).length).toBeGreaterThan(0);
    expect(await writer.line).toBe('done 2');
    await writer.exited;

    const { uploader } = await openUploader(cleanup, { endpoint: server.url, directory });
    const tail = tailFile(path, { uploader, pollIntervalMs: 20, rotateWaitMs: 300 });
    cleanup.add(() => tail.stop());
    const written = await linesWritten([`${path}.1`, `${path}.2`, path]);
    expect(written).toHaveLength(6000);
    await waitFor(async () => (await storedLines(server)).length >= written.length, 30_000);

    // The unterminated line is completed later; then copytruncate once the tailer caught up.
    await appendFile(path, '-completed\n');
    await waitFor(async () => (await storedLines(server)).length >= written.length + 1, 10_000);
    await waitCaughtUp(tail);
    await copyFile(path, `${path}.copy`);
    await truncate(path, 0);
    const afterTruncate = Array.from({ length: 100 }, (_, i) => `after-truncate-${i}`);
    await appendFile(path, `${afterTruncate.join('\n')}\n`);
    const expected = [...written, 'w-unterminated-completed', ...afterTruncate].sort();
    await waitFor(async () => (await storedLines(server)).length >= expected.length, 10_000);
    await uploader.flush();
    await sleep(300);
    expect(await storedLineTexts(server)).toEqual(expected);
  }, 60_000);
});
