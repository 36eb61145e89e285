import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Durability } from './disk-queue/types.js';

// The only module of this package that calls fsync or fdatasync (test/durable-file-placement.test.ts
// enforces it), so that what "durable" means is decided in one place.

/**
 * Makes a file's bytes and metadata durable (fsync). With durability `os` it does nothing: the bytes are
 * left to the OS to write back.
 */
export async function syncFile(handle: FileHandle, durability: Durability = 'fsync'): Promise<void> {
  if (durability === 'fsync') await handle.sync();
}

/**
 * Makes a file's bytes durable (fdatasync): enough for appended data, whose size change it also covers,
 * and cheaper than `syncFile` because timestamps are not written. With durability `os` it does nothing.
 */
export async function syncFileData(handle: FileHandle, durability: Durability = 'fsync'): Promise<void> {
  if (durability === 'fsync') await handle.datasync();
}

/**
 * fsyncs a directory so that entries created, renamed or removed in it survive power loss. With
 * durability `os` it does nothing.
 */
export async function syncDirectory(directory: string, durability: Durability = 'fsync'): Promise<void> {
  if (durability !== 'fsync') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically: readers and crashes see the old content or the new, never a
 * mix. Writes `<path>.tmp`, fsyncs it, renames it over `path`, and fsyncs the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await syncFile(handle);
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}
