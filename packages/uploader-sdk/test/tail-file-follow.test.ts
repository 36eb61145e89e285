import { appendFile } from 'node:fs/promises';
import type { TestServer } from '@sluice/ingest-api/testing';
import { describe, expect } from 'vitest';
import { type TailOptions, tailFile, type Uploader } from '../src/index.js';
import { type Cleanup, openUploader, waitFor } from './support/harness.js';
import { test } from './support/tail-fixture.js';
import {
  appLog,
  lines,
  numberedLines,
  storedLines,
  storedLineTexts,
  waitForStored,
} from './support/tail-harness.js';

/** Follows a new file of two lines, with a checkpoint TTL of 200 ms, until both are stored. */
async function followTwoLines(server: TestServer, uploader: Uploader) {
  const { path } = await appLog('one\ntwo\n');
  const options = { uploader, pollIntervalMs: 20, checkpointTtlMs: 200 };
  const tail = tailFile(path, options);
  await waitForStored(server, 2);
  return { path, options, tail };
}

/** Follows `path` with a new tailer, stopped by `cleanup`; returns the offsets it opens files at. */
function tailAgain(path: string, options: TailOptions, cleanup: Cleanup): number[] {
  const again = tailFile(path, options);
  cleanup.add(() => again.stop());
  const opened: number[] = [];
  again.on('opened', (event) => opened.push(event.offset));
  return opened;
}

describe('tailFile', () => {
  test('ships every line of a growing file once, with file and byte offset, and resumes after a restart', async ({
    server,
    cleanup,
  }) => {
    const first = numberedLines('a', 50);
    const { path } = await appLog(lines(first));
    const { uploader, directory } = await openUploader(cleanup, { endpoint: server.url });
    const tail = tailFile(path, { uploader, type: 'log', pollIntervalMs: 20 });
    await waitForStored(server, 50);
    const more = numberedLines('b', 30);
    await appendFile(path, lines(more));
    await waitForStored(server, 80);
    await tail.stop();

    // Lines appended while stopped are read from the checkpoint by the next tailer, nothing twice.
    const later = numberedLines('c', 20);
    await appendFile(path, lines(later));
    const again = tailFile(path, { uploader, pollIntervalMs: 20 });
    cleanup.add(() => again.stop());
    await waitForStored(server, 100);
    await uploader.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await storedLineTexts(server)).toEqual([...first, ...more, ...later].sort());
    const rows = await storedLines(server);
    expect(rows[0]).toMatchObject({ file: path, offset: 0, line: first[0] });
    expect(rows[1]!.offset).toBe(Buffer.byteLength(`${first[0]}\n`));
    expect(rows.every((row) => /^[A-Za-z0-9_-]{22}\.0:\d+$/.test(row.id))).toBe(true);
    expect(directory.length).toBeGreaterThan(0);
  });

  test('waits for the newline of an unterminated last line, then ships it whole', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path } = await appLog('one\ntw');
    const tail = tailFile(path, { uploader, pollIntervalMs: 20 });
    cleanup.add(() => tail.stop());
    await waitForStored(server, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedLineTexts(server)).toEqual(['one']);
    await appendFile(path, 'o\nthree\n');
    await waitForStored(server, 3);
    await waitFor(async () => (await storedLineTexts(server)).length === 3);
    expect(await storedLineTexts(server)).toEqual(['one', 'three', 'two']);
  });

  test('ships a file that starts empty, and a one-line file, once their first line is complete', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path } = await appLog('');
    const tail = tailFile(path, { uploader, pollIntervalMs: 20 });
    cleanup.add(() => tail.stop());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await appendFile(path, 'only line\n');
    await waitForStored(server, 1);
    await appendFile(path, 'second\n');
    await waitForStored(server, 2);
    expect(await storedLineTexts(server)).toEqual(['only line', 'second']);
  });

  test('keeps the checkpoint of a followed file however long it stays idle', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path, options, tail } = await followTwoLines(server, uploader);
    await new Promise((resolve) => setTimeout(resolve, 800)); // idle for four TTLs
    await tail.stop();
    const opened = tailAgain(path, options, cleanup);
    await waitFor(() => opened.length === 1);
    expect(opened).toEqual([8]);
  });

  test('keeps the checkpoint of a file still there however long the tailer was stopped', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const { path, options, tail } = await followTwoLines(server, uploader);
    await tail.stop();
    await new Promise((resolve) => setTimeout(resolve, 800)); // stopped for four TTLs
    await appendFile(path, 'three\n');
    const opened = tailAgain(path, options, cleanup);
    await waitForStored(server, 3);
    expect(opened).toEqual([8]);
    expect(await storedLineTexts(server)).toEqual(['one', 'three', 'two']);
  });
});
