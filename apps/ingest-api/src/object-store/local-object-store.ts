import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { makeDirectoryDurably, writeFileDurably } from '../durable-file.js';
import { assertObjectKey } from './object-key.js';
import type { ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
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
 * leaves either the complete object or none. The directories a write creates (`blobs/71/a9`, the
 * store's own) are fsynced in their parents first, so an object once written survives a power loss.
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

  async put(key: string, body: Uint8Array | ObjectBody, options: PutOptions): Promise<void> {
    const path = this.#path(key);
    try {
      options.signal?.throwIfAborted();
      await makeDirectoryDurably(dirname(path));
      await writeFileDurably(path, body instanceof Uint8Array ? body : body.chunks, {
        signal: options.signal,
      });
    } catch (error) {
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

  async getStream(key: string, options?: { readonly start?: number }): Promise<Readable | undefined> {
    const path = this.#path(key);
    try {
      // Opened first, so that a missing object is `undefined` rather than a stream that errors.
      const handle = await open(path, 'r');
      return handle.createReadStream({ start: options?.start ?? 0 });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new ObjectStoreError('get', key, { cause: error });
    }
  }

  async close(): Promise<void> {}
}
