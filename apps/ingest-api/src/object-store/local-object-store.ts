import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertObjectKey } from './object-key.js';
import type { ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
import { ObjectStoreError } from './object-store-error.js';

/** Options of {@link LocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** Directory that holds the objects, one file per key (created when missing). */
  readonly directory: string;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * An object store in a local directory, the embedded default (`DATA_DIR/objects`). Each write goes to a
 * temporary file that is fsynced and renamed into place, and the directory is fsynced, so a crash
 * leaves either the complete object or none.
 */
export class LocalObjectStore implements ObjectStore {
  readonly description: string;
  readonly #root: string;

  constructor(options: LocalObjectStoreOptions) {
    this.#root = resolve(options.directory);
    this.description = `file://${this.#root}`;
  }

  #path(key: string): string {
    assertObjectKey(key);
    return join(this.#root, key);
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    const path = this.#path(key);
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      options.signal?.throwIfAborted();
      await mkdir(dirname(path), { recursive: true });
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(bytes, { signal: options.signal });
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
      await syncDirectory(dirname(path));
    } catch (error) {
      await rm(temp, { force: true });
      throw new ObjectStoreError('put', key, { cause: error });
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.#path(key);
    try {
      const info = await stat(path);
      return { size: info.size };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new ObjectStoreError('head', key, { cause: error });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.#path(key);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new ObjectStoreError('get', key, { cause: error });
    }
  }

  async close(): Promise<void> {}
}

async function syncDirectory(path: string): Promise<void> {
  // The rename is only durable once the directory entry is on disk.
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
