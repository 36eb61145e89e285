import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorAnswer, type FaultProxy } from './support/fault-proxy.js';
import { describe, expect, it } from './support/fixtures.js';
import { notStoredOnce, tempDirectory } from './support/harness.js';

// Whether a process stays alive is a property of the whole process, and vitest keeps its own event loop
// busy: every scenario here runs in a child process that holds no handle of its own.

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./support/lifetime-child.ts', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly lines: string[];
  readonly stderr: string;
  /** ms from the first line equal to `mark` to the exit. */
  readonly afterMark: number | undefined;
}

function run(args: string[], mark?: string): Promise<Finished> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markedAt: number | undefined;
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (mark !== undefined && markedAt === undefined && stdout.split('\n').includes(mark)) {
      markedAt = performance.now();
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) =>
    proc.on('close', (code) =>
      resolve({
        code,
        lines: stdout.split('\n').filter((line) => line !== ''),
        stderr,
        afterMark: markedAt === undefined ? undefined : performance.now() - markedAt,
      }),
    ),
  );
}

const idsOf = (lines: readonly string[]) => lines.filter((line) => /^[0-9a-f-]{36}$/i.test(line));

/** Fails the first `failures` POSTs: 503 with `Retry-After: 1`, then one connection reset after the commit. */
function flaky(faults: FaultProxy, failures: number): void {
  let posts = 0;
  faults.decide = (request) => {
    if (request.method !== 'POST') return { kind: 'forward' };
    posts += 1;
    if (posts <= failures) return errorAnswer(503, 'UNAVAILABLE', { 'retry-after': '1' });
    if (posts === failures + 1) return { kind: 'drop-response' };
    return { kind: 'forward' };
  };
}

describe('process lifetime', () => {
  it('a script that awaits flush() and close() through 503s and resets exits 0 with everything delivered once', async ({
    server,
    faults,
  }) => {
    flaky(faults, 3);
    const directory = await tempDirectory();
    const finished = await run([child, 'flush', directory, faults.url, '300', '3']);
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    expect(finished.lines.at(-1)).toBe('done');
    const ids = idsOf(finished.lines);
    expect(ids).toHaveLength(303);
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(finished.lines.find((line) => line.startsWith('result '))).toMatch(/"complete":true/);
  }, 60_000);

  it('an idle uploader that was never flushed or closed lets the process exit at once', async ({
    server,
  }) => {
    const directory = await tempDirectory();
    const finished = await run([child, 'idle', directory, server.url, '5'], 'idle');
    expect(finished.code).toBe(0);
    expect(finished.lines.at(-1)).toBe('done');
    expect(finished.afterMark).toBeLessThan(1000);
    expect(await notStoredOnce(server, idsOf(finished.lines))).toEqual([]);
  }, 60_000);

  // The records are durable once enqueued: a script that never flushes must not be held until the batch
  // timer fires (up to `maxBatchDelayMs`); the next process sends them.
  it('a script that enqueues and returns exits at once, and the next process delivers its records', async ({
    server,
  }) => {
    const directory = await tempDirectory();
    const first = await run([child, 'enqueued', directory, server.url, '5'], 'enqueued');
    expect(first.code).toBe(0);
    expect(first.afterMark).toBeLessThan(1000);
    const second = await run([child, 'flush', directory, server.url, '0']);
    expect(second.code).toBe(0);
    expect(await notStoredOnce(server, idsOf(first.lines))).toEqual([]);
  }, 60_000);

  it('`sluice send` through a flaky server exits 0 with every file delivered once', async ({
    server,
    faults,
  }) => {
    flaky(faults, 2);
    const files = await tempDirectory();
    const paths = ['a.bin', 'b.bin', 'c.txt'].map((name) => join(files, name));
    for (const [i, path] of paths.entries()) await writeFile(path, Buffer.alloc(2000 + i, i));
    const directory = await tempDirectory();
    const finished = await run([
      cli,
      'send',
      ...paths,
      '--endpoint',
      faults.url,
      '--key',
      'test-key',
      '--dir',
      directory,
    ]);
    expect(finished.code).toBe(0);
    // The reset comes after the server committed: that file is acknowledged as `duplicate` on its retry.
    const ids = finished.lines
      .filter((line) => /^(stored|duplicate)\t/.test(line))
      .map((line) => line.split('\t')[1]!);
    expect(ids).toHaveLength(3);
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(finished.lines).toContain('3 delivered, 0 dead');
  }, 60_000);

  it('a SIGTERM handler that awaits close() while flush() is pending ends the flush with its result and exits 0; a second run delivers the rest', async ({
    server,
    faults,
  }) => {
    faults.decide = (request) =>
      request.method === 'POST'
        ? errorAnswer(503, 'UNAVAILABLE', { 'retry-after': '1' })
        : { kind: 'forward' };
    const directory = await tempDirectory();
    const first = await run([child, 'sigterm', directory, faults.url, '200', '2']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.lines).toContain('closed');
    const result = first.lines.find((line) => line.startsWith('result '));
    expect(JSON.parse(result!.slice('result '.length))).toMatchObject({
      complete: false,
      closed: true,
      timedOut: false,
      delivered: 0,
      queued: 202,
    });
    const ids = idsOf(first.lines);
    expect(ids).toHaveLength(202);

    faults.decide = () => ({ kind: 'forward' });
    const second = await run([child, 'flush', directory, faults.url, '0']);
    expect(second.code).toBe(0);
    expect(second.lines.at(-1)).toBe('done');
    expect(await notStoredOnce(server, ids)).toEqual([]);
  }, 60_000);
});
