import { spawn } from 'node:child_process';
import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestServer } from '@sluice/ingest-api/testing';
import { expect } from 'vitest';
import type { Tail } from '../../src/index.js';
import { tempDirectory, waitFor } from './harness.js';

/** A stored tail record: its id and `data` fields. */
export interface StoredLine {
  readonly id: string;
  readonly line: string;
  readonly file: string;
  readonly offset: number;
  readonly truncated: boolean;
  readonly json: unknown;
}

/** Every record of `type` stored for the server's source, ordered by file and offset. */
export async function storedLines(server: TestServer, type = 'log'): Promise<StoredLine[]> {
  const rows = await server.query<{ id: string; data: Record<string, unknown> }>(
    'select id, data from items where source = $1 and type = $2',
    [server.source, type],
  );
  return rows
    .map((row) => ({
      id: row.id,
      line: String(row.data.line),
      file: String(row.data.file),
      offset: Number(row.data.offset),
      truncated: row.data.truncated === true,
      json: row.data.json,
    }))
    .sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1));
}

/** The stored `line`s sorted: compare with the sorted expected lines for an exact-once check. */
export async function storedLineTexts(server: TestServer, type = 'log'): Promise<string[]> {
  return (await storedLines(server, type)).map((row) => row.line).sort();
}

/** Waits until `count` records of `type` are stored (after `flush` is not possible: the tailer is async). */
export async function waitForStored(
  server: TestServer,
  count: number,
  type = 'log',
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(async () => (await storedLines(server, type)).length >= count, timeoutMs);
}

/** Waits until every file of the tailer is read and checkpointed to `size`. */
export async function waitCaughtUp(tail: Tail, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => {
    const { files } = tail.stats();
    return files.length > 0 && files.every((file) => file.lagBytes === 0);
  }, timeoutMs);
}

/** `text` as the content of a file: every line ends with a newline. */
export const lines = (text: readonly string[]): string => `${text.join('\n')}\n`;

/** A fresh log directory and the path of `app.log` in it, written with `text` unless that is undefined. */
export async function appLog(text?: string): Promise<{ logs: string; path: string }> {
  const logs = await tempDirectory('sluice-tail-');
  const path = join(logs, 'app.log');
  if (text !== undefined) await writeFile(path, text);
  return { logs, path };
}

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const writerChild = fileURLToPath(new URL('./tail-writer-child.ts', import.meta.url));

/**
 * Runs `tail-writer-child.ts` writing `count` lines fast to `path`, rotating it as `rotate` says (`100ms`,
 * `copy100ms`), until it exits; returns how many rotations it reported and every line in `logs` then.
 */
export async function runRotatingWriter(
  logs: string,
  path: string,
  count: number,
  rotate: string,
): Promise<{ rotations: number; written: string[] }> {
  const writer = spawn(
    process.execPath,
    ['--import', 'tsx', writerChild, path, 'fast', String(count), rotate],
    {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [done] = await Promise.all([
    new Promise<string>((resolve) => createInterface({ input: writer.stdout }).once('line', resolve)),
    new Promise((resolve) => writer.on('exit', resolve)),
  ]);
  const rotations = Number(done.split(' ')[1]);
  const written: string[] = [];
  for (const name of await readdir(logs)) {
    written.push(...(await readFile(join(logs, name), 'utf8')).split('\n').slice(0, -1));
  }
  return { rotations, written };
}

/** `count` distinct lines `prefix-0` … with a newline each. */
export function numberedLines(prefix: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${from + i} ${'x'.repeat((from + i) % 37)}`);
}

/**
 * Deletes the file at `path` and creates a new one there, holding `text`, with the deleted file's inode —
 * what a file system that hands a freed inode to the next file does (ext4 often, not always). Done
 * deterministically: a hard link (in `<path>-kept/`, a subdirectory no tailer lists) keeps the inode while
 * `path` is deleted, is linked back to `path` and removed, and the file is rewritten from byte 0. A tailer
 * sees what it would see on reuse: `path` gone, then `path` with the same inode and other content.
 */
export async function recreateWithSameInode(path: string, text: string): Promise<void> {
  const kept = join(`${path}-kept`, 'inode');
  await mkdir(dirname(kept), { recursive: true });
  await link(path, kept);
  await rm(path);
  await link(kept, path);
  await rm(kept);
  await writeFile(path, text);
}

/** The lines of `type` stored, sorted, once it is checked that no id is stored twice. */
export async function storedOnce(server: TestServer, type: string): Promise<string[]> {
  const rows = await storedLines(server, type);
  expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  return rows.map((row) => row.line).sort();
}
