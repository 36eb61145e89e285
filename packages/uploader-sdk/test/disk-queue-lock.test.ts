import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { isQueueLockedError, QueueLockedError } from '../src/errors.js';
import { numbersOf, payloadOf, readAll, tempDirectory, track } from './disk-queue-helpers.js';

const CHILD = fileURLToPath(new URL('./disk-queue-crash-child.ts', import.meta.url));
const PACKAGE_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const LOCK = 'queue.lock';

/** The pid of a process that has already exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

const hasBootId = existsSync('/proc/sys/kernel/random/boot_id');
if (!hasBootId) console.warn('SKIPPING the lock-from-before-a-reboot test: this system has no boot id.');

/** The pid written on the first line of the lock file. */
async function ownerOf(directory: string): Promise<number> {
  return Number.parseInt(await readFile(join(directory, LOCK), 'utf8'), 10);
}

describe('disk queue directory lock', () => {
  it('refuses a second open of the same directory in one process, naming this process', async () => {
    const directory = await tempDirectory();
    const queue = track(await openDiskQueue({ directory }));
    const error = await openDiskQueue({ directory: join(directory, '.') }).catch((caught: unknown) => caught);
    expect(isQueueLockedError(error)).toBe(true);
    expect(error).toMatchObject({ ownerPid: process.pid });
    expect((error as Error).message).toContain(`in use by process ${process.pid}`);
    // The failed open left the owner's lock in place.
    expect(await ownerOf(directory)).toBe(process.pid);
    await queue.append(payloadOf(1));
  });

  it('refuses a directory another live process owns, and takes it over once that process is killed', async () => {
    const directory = await tempDirectory();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, directory, '0'], {
      cwd: PACKAGE_DIRECTORY,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`the child exited with ${code} before it was ready`)));
      });
      const error = await openDiskQueue({ directory }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(QueueLockedError);
      expect(error).toMatchObject({ name: 'QueueLockedError', ownerPid: child.pid });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const queue = track(await openDiskQueue({ directory }));
    expect(await ownerOf(directory)).toBe(process.pid);
    expect(queue.stats().entries).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it('takes over a lock left by a dead process, or by an earlier process with this pid', async () => {
    const directory = await tempDirectory();
    await writeFile(join(directory, LOCK), `${await deadPid()}\n`);
    const queue = await openDiskQueue({ directory });
    await queue.append(payloadOf(7));
    await queue.close();

    await writeFile(join(directory, LOCK), `${process.pid}\n`);
    const reopened = track(await openDiskQueue({ directory }));
    expect(numbersOf(await readAll(reopened))).toEqual([7]);
  });

  it.skipIf(!hasBootId)(
    'takes over a lock written before a reboot even when its pid is alive now',
    async () => {
      const directory = await tempDirectory();
      await writeFile(join(directory, LOCK), `${process.ppid}\n00000000-0000-0000-0000-000000000000\n`);
      track(await openDiskQueue({ directory }));
      expect(await ownerOf(directory)).toBe(process.pid);
    },
  );

  it('leaves a fresh unreadable lock alone but takes over an old one', async () => {
    const directory = await tempDirectory();
    const path = join(directory, LOCK);
    await writeFile(path, '');
    const error = await openDiskQueue({ directory }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'QueueLockedError', ownerPid: undefined });
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(path, longAgo, longAgo);
    track(await openDiskQueue({ directory }));
    expect(await ownerOf(directory)).toBe(process.pid);
  });

  it('releases the lock on close so the directory can be opened again', async () => {
    const directory = await tempDirectory();
    const queue = await openDiskQueue({ directory });
    await queue.close();
    await expect(readFile(join(directory, LOCK))).rejects.toMatchObject({ code: 'ENOENT' });
    track(await openDiskQueue({ directory }));
  });
});
