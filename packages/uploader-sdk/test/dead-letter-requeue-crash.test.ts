import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordHash } from '@sluice/contracts';
import { REQUEUE_INTENT_FILE } from '../src/dead-letter-requeue.js';
import { DEAD_LETTER_FILE, type DeadLetter, openDeadLetterStore } from '../src/dead-letter-store.js';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { describe, expect, it, type OpenUploader } from './support/fixtures.js';
import { notStoredOnce } from './support/harness.js';

const child = fileURLToPath(new URL('./support/requeue-child.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const RECORDS = 10_000;
const BLOBS = 20;

/**
 * Writes dead letters as the uploader does (records with their wire item, blobs with kept bytes) for
 * items the server has never seen; returns their ids. Enough records that rewriting the letters takes
 * long enough to be caught in the act.
 */
async function plantDeadLetters(directory: string, prefix: string): Promise<string[]> {
  const store = await openDeadLetterStore({ directory: join(directory, 'dead-letters') });
  const reason = {
    code: 'IDEMPOTENCY_CONFLICT',
    message: 'this id is already stored with different content',
  };
  const letters: DeadLetter[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const item = { id: `${prefix}-r-${i}`, type: 'crash', ts: 1000 + i, data: { i, pad: 'x'.repeat(100) } };
    const hash = recordHash(item);
    letters.push({
      ...base(item.id, item.ts, reason),
      kind: 'record',
      type: 'crash',
      item: { ...item, hash },
    });
  }
  for (let i = 0; i < BLOBS; i++) {
    const bytes = randomBytes(2000 + i);
    const source = join(directory, `source-${i}`);
    await writeFile(source, bytes);
    const file = `${prefix}-b-${i}.${randomBytes(6).toString('hex')}`;
    await store.keepBlob(source, file);
    await rm(source);
    const manifest = {
      id: `${prefix}-b-${i}`,
      type: 'crash-blob',
      ts: 5000 + i,
      contentType: 'application/octet-stream',
      size: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    letters.push({
      ...base(manifest.id, manifest.ts, reason),
      kind: 'blob',
      type: 'crash-blob',
      item: manifest,
      file,
    });
  }
  await store.add(letters);
  await store.close();
  return letters.map((letter) => letter.id);
}

function base(id: string, ts: number, reason: DeadLetter['reason']) {
  return { id, ts, reason, status: 'conflict', deadAt: Date.now() };
}

/** Runs the requeue child and SIGKILLs it as soon as `file` appears in its dead-letters directory. */
async function requeueKilledAt(directory: string, file: string): Promise<void> {
  const letters = join(directory, 'dead-letters');
  const proc = spawn(process.execPath, ['--import', 'tsx', child, directory], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const watcher = watch(letters, (_event, name) => {
    if (name === file) proc.kill('SIGKILL');
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, exitSignal) => resolve(exitSignal)),
  );
  watcher.close();
  expect(signal).toBe('SIGKILL');
  expect(output).not.toContain('requeued');
}

/** Ids queued on disk (each as often as it is queued) and ids dead-lettered, read without the uploader. */
async function onDisk(directory: string): Promise<{ queued: string[]; dead: string[] }> {
  const queued: string[] = [];
  for (const name of ['records', 'blobs']) {
    const queue = await openDiskQueue({ directory: join(directory, name) });
    await queue.scan((entry) => {
      const parsed = JSON.parse(Buffer.from(entry.payload).toString('utf8')) as {
        id?: string;
        manifest?: { id: string };
      };
      queued.push(parsed.id ?? parsed.manifest!.id);
    });
    await queue.close();
  }
  const store = await openDeadLetterStore({ directory: join(directory, 'dead-letters'), readOnly: true });
  const dead = (await store.list()).map((letter) => letter.id);
  await store.close();
  return { queued, dead };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Opens and closes an uploader on `directory`, which finishes an interrupted requeue. */
async function reopen(openUploader: OpenUploader, directory: string): Promise<void> {
  const { uploader } = await openUploader({ endpoint: 'http://127.0.0.1:1', directory });
  await uploader.close();
}

function expectEachOnce(state: { queued: string[]; dead: string[] }, ids: readonly string[]): void {
  const all = [...state.queued, ...state.dead].sort();
  expect(all).toEqual([...ids].sort());
}

describe('requeue crash', () => {
  it('leaves each item a dead letter or queued, never both or neither, when killed mid-requeue; each is delivered once', async ({
    server,
    openUploader,
    tempDir,
  }) => {
    const directory = await tempDir();
    const ids = await plantDeadLetters(directory, 'mid');

    // Killed while the letters are being rewritten: every entry is appended, every letter still stands.
    await requeueKilledAt(directory, `${DEAD_LETTER_FILE}.tmp`);
    const torn = await onDisk(directory);
    expect(await exists(join(directory, 'dead-letters', REQUEUE_INTENT_FILE))).toBe(true);
    expect(torn.dead).toHaveLength(ids.length);
    expect(torn.queued.length).toBeGreaterThan(0);
    await reopen(openUploader, directory);
    expect(await exists(join(directory, 'dead-letters', REQUEUE_INTENT_FILE))).toBe(false);
    const recovered = await onDisk(directory);
    expectEachOnce(recovered, ids);
    expect(recovered.queued).toHaveLength(ids.length);

    const { uploader } = await openUploader({ endpoint: server.url, directory });
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(await uploader.deadLetters()).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, duplicates: 0, delivered: ids.length });
  }, 120_000);

  it('keeps every item a dead letter when killed as the requeue starts, and a later requeue delivers each once', async ({
    server,
    openUploader,
    tempDir,
  }) => {
    const directory = await tempDir();
    const ids = await plantDeadLetters(directory, 'start');

    await requeueKilledAt(directory, REQUEUE_INTENT_FILE);
    await reopen(openUploader, directory);
    const recovered = await onDisk(directory);
    expectEachOnce(recovered, ids);

    const { uploader } = await openUploader({ endpoint: server.url, directory });
    await uploader.requeue();
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(await uploader.deadLetters()).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, duplicates: 0 });
  }, 120_000);
});
