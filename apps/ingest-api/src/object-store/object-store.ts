import type { Readable } from 'node:stream';

/** What a store is told about the bytes it keeps. */
export interface PutOptions {
  /** MIME type stored with the object, e.g. `image/png`. */
  readonly contentType: string;
  /** Lowercase hex SHA-256 of the bytes, already verified by the caller. */
  readonly sha256: string;
  /** Cancels the upload, e.g. when the worker's lease is about to run out. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * An object's bytes as a stream of chunks of a known total size, for objects too large to hold whole.
 * If iterating `chunks` throws, nothing is stored.
 */
export interface ObjectBody {
  /** Total length of the chunks in bytes. */
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array>;
}

/** What a store knows about an object without reading it. */
export interface ObjectInfo {
  /** Length of the object in bytes. */
  readonly size: number;
}

/**
 * Where blob bytes end up. Keys are content-addressed (`blobObjectKey(sha256)` from the contracts), so
 * writing the same key twice writes the same bytes and a retried `put` after a lost response is harmless.
 */
export interface ObjectStore {
  /** A short description for logs, e.g. `s3://bucket` or `file:///data/objects`. */
  readonly description: string;
  /**
   * Writes the whole object atomically: readers see the old object, no object, or the complete new one.
   * @throws {ObjectStoreError} when the store cannot be reached, refuses the write, or `body` fails.
   */
  put(key: string, body: Uint8Array | ObjectBody, options: PutOptions): Promise<void>;
  /**
   * Size of an existing object, or `undefined` when there is none.
   * @throws {ObjectStoreError} when the store cannot be reached.
   */
  head(key: string, options?: { readonly signal?: AbortSignal | undefined }): Promise<ObjectInfo | undefined>;
  /**
   * The bytes of an object, or `undefined` when there is none.
   * @throws {ObjectStoreError} when the store cannot be reached.
   */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The bytes of an object as a stream, from byte `start` (default 0) to its end, or `undefined` when there
   * is none; the stream errors when the store fails mid-read.
   * @throws {ObjectStoreError} when the store cannot be reached.
   */
  getStream(key: string, options?: { readonly start?: number }): Promise<Readable | undefined>;
  /** Releases connections and other resources. Idempotent. */
  close(): Promise<void>;
}
