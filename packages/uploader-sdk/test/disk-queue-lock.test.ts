import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { isQueueLockedError, QueueLockedError } from '../src/errors.js';
import { numbersOf, payloadOf, readAll, tempDirectory, track } from './disk-queue-helpers.js';

const CHILD = fileURLToPath(new URL('./disk-queue-crash-child.ts', import.meta.url));
const HOLDER = fileURLToPath(new URL('./disk-queue-holder-child.ts', import.meta.url));
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

/** A child process that opened the queue in `directory` and holds it until killed. */
async function holdInChild(directory: string): Promise<{ pid: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, directory], {
    cwd: PACKAGE_DIRECTORY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`the child exited with ${code} before it was ready`)));
    });
  } catch (error) {
    await kill();
    throw error;
  }
  return { pid: child.pid!, kill };
}

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

  it.each([
    ['this process (two containers both running node as pid 1)', () => `${process.pid}\n`],
    [
      'a live process on another boot (another host on a shared volume)',
      () => `${process.ppid}\n00000000-0000-0000-0000-000000000000\n`,
    ],
    ['a process that is gone', async () => `${await deadPid()}\n`],
  ])(
    'refuses a directory a live process holds even when its lock file claims %s',
    async (_, claim) => {
      const directory = await tempDirectory();
      const holder = await holdInChild(directory);
      try {
        await writeFile(join(directory, LOCK), await claim());
        const error = await openDiskQueue({ directory }).catch((caught: unknown) => caught);
        expect(isQueueLockedError(error)).toBe(true);
        expect((error as Error).message).toContain(directory);
      } finally {
        await holder.kill();
      }
    },
    30_000,
  );

  it('is free the moment its holder is killed, whatever the lock file still claims', async () => {
    const directory = await tempDirectory();
    const holder = await holdInChild(directory);
    await holder.kill();
    // The content claims a live process of this boot: only the kernel's lock can say it is free.
    await writeFile(join(directory, LOCK), `${process.ppid}\n`);
    const queue = track(await openDiskQueue({ directory }));
    await queue.append(payloadOf(1));
    expect(await ownerOf(directory)).toBe(process.pid);
  }, 30_000);

  it('names the holder in the error: pid, host and since when', async () => {
    const directory = await tempDirectory();
    const holder = await holdInChild(directory);
    try {
      const error = await openDiskQueue({ directory }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'QueueLockedError', ownerPid: holder.pid });
      expect((error as Error).message).toMatch(
        new RegExp(`is in use by process ${holder.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT`),
      );
    } finally {
      await holder.kill();
    }
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

  it('takes a lock file with garbage or no text at once when no process holds it', async () => {
    const directory = await tempDirectory();
    const path = join(directory, LOCK);
    await writeFile(path, '');
    const queue = await openDiskQueue({ directory });
    expect(await ownerOf(directory)).toBe(process.pid);
    await queue.close();
    await writeFile(path, '\u0000\u0000 not a lock file');
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
