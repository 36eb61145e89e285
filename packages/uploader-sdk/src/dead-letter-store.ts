import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { syncDirectory, syncFileData, writeFileAtomic } from './durable-file.js';
import { UploaderClosedError } from './errors.js';
import { linkOrCopy } from './link-or-copy.js';

/** File name of the dead letters inside the store's directory: one JSON object per line. */
export const DEAD_LETTER_FILE = 'dead-letters.jsonl';

/** Directory inside the store's directory that keeps the bytes of dead-lettered blobs. */
export const DEAD_LETTER_BLOBS = 'blobs';

/** Why an item is dead: the server's status, or `unsendable` when it was refused before sending. */
export type DeadLetterStatus = 'conflict' | 'rejected' | 'unsendable' | (string & {});

/** An item that will never be delivered, kept on disk with the reason. */
export interface DeadLetter {
  /** The item's id. */
  readonly id: string;
  readonly kind: 'record' | 'blob';
  readonly type: string;
  /** The item's timestamp (epoch ms). */
  readonly ts: number;
  /** The error code and message that made it dead (the server's, or a local one). */
  readonly reason: { readonly code: string; readonly message: string };
  readonly status?: DeadLetterStatus;
  /** When it was dead-lettered (epoch ms). */
  readonly deadAt: number;
  /** The item as it was enqueued (a record, or a blob's manifest entry). */
  readonly item: unknown;
  /**
   * Blobs: name of the file in the store's `blobs/` directory that keeps the blob's bytes. Absent when
   * the bytes were already gone (`BLOB_FILE_MISSING`) or the letter predates kept bytes.
   */
  readonly file?: string;
}

export interface DeadLetterStoreOptions {
  /** Directory holding the store's file; created if missing (unless `readOnly`). */
  readonly directory: string;
  /**
   * Only list and count, never write: for reading the store of a directory another process owns (the
   * CLI), which needs no lock because writers only ever append whole lines.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** Paging of `list`. */
export interface DeadLetterListOptions {
  /** Most letters to return. @default Infinity */
  readonly limit?: number;
  /** Letters to skip first, oldest first. @default 0 */
  readonly offset?: number;
}

/** Durable store of dead letters: appended to as items die, rewritten only to remove requeued ones. */
export interface DeadLetterStore {
  /** The store's directory. */
  readonly directory: string;
  /** Appends letters; resolves once they are fsync'd. Concurrent calls share one write and fsync. */
  add(letters: readonly DeadLetter[]): Promise<void>;
  /**
   * Keeps a dead blob's bytes: hard-links (or, where links are not supported, copies) `source` into
   * `blobs/` as `file`, durably. Call before `add`ing the letter that names `file`.
   * @returns false when `source` no longer exists (nothing is kept).
   */
  keepBlob(source: string, file: string): Promise<boolean>;
  /** Path of a letter's kept blob bytes, `blobs/<file>`. */
  blobPath(file: string): string;
  /** Letters oldest first, streamed from disk; lines torn by a crash are skipped. */
  list(options?: DeadLetterListOptions): Promise<DeadLetter[]>;
  /** How many letters the store holds. */
  count(): Promise<number>;
  /**
   * Removes these letters (every stored letter equal to one of them) by an atomic rewrite of the file,
   * then deletes the kept bytes no remaining letter names. Letters added meanwhile are kept.
   */
  remove(letters: readonly DeadLetter[]): Promise<void>;
  /** Finishes pending writes and closes the file. Idempotent. */
  close(): Promise<void>;
}

interface PendingAdd {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function isDeadLetter(value: unknown): value is DeadLetter {
  if (typeof value !== 'object' || value === null) return false;
  const letter = value as Partial<DeadLetter>;
  return (
    (letter.file === undefined || isPlainFileName(letter.file)) &&
    typeof letter.id === 'string' &&
    (letter.kind === 'record' || letter.kind === 'blob') &&
    typeof letter.type === 'string' &&
    typeof letter.ts === 'number' &&
    typeof letter.deadAt === 'number' &&
    typeof letter.reason === 'object' &&
    letter.reason !== null &&
    typeof letter.reason.code === 'string' &&
    typeof letter.reason.message === 'string'
  );
}

/** A bare file name: a letter must not name bytes outside the store's `blobs/` directory. */
function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9._:-]+$/.test(name) && name !== '.' && name !== '..';
}

/** What identifies a letter: its JSON text as written (letters are never modified in place). */
function identity(letter: DeadLetter): string {
  return JSON.stringify(letter);
}

function parseLine(line: string): DeadLetter | undefined {
  if (line === '') return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isDeadLetter(value) ? value : undefined;
  } catch {
    // A line cut short by a crash mid-write: it was never acknowledged to the caller.
    return undefined;
  }
}

function validatePaging(options: DeadLetterListOptions): { limit: number; offset: number } {
  const { limit = Number.POSITIVE_INFINITY, offset = 0 } = options;
  if (!(limit >= 0) || (Number.isFinite(limit) && !Number.isSafeInteger(limit))) {
    throw new TypeError(`Expected \`limit\` to be a non-negative integer, got ${String(limit)}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new TypeError(`Expected \`offset\` to be a non-negative integer, got ${String(offset)}`);
  }
  return { limit, offset };
}

/** Streams the valid letters of `path` to `visit` until it returns false. A missing file is empty. */
async function forEachLetter(path: string, visit: (letter: DeadLetter) => boolean): Promise<void> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      const letter = parseLine(line);
      if (letter !== undefined && !visit(letter)) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    lines.close();
    stream.destroy();
  }
}

class FileDeadLetterStore implements DeadLetterStore {
  readonly directory: string;
  readonly #path: string;
  readonly #readOnly: boolean;
  #handle: FileHandle | undefined;
  #pending: PendingAdd[] = [];
  #flushQueued = false;
  /** Every write (appends and rewrites) runs on this chain, one at a time. */
  #writes: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #torn = false;

  constructor(directory: string, handle: FileHandle | undefined) {
    this.directory = directory;
    this.#path = join(directory, DEAD_LETTER_FILE);
    this.#handle = handle;
    this.#readOnly = handle === undefined;
  }

  add(letters: readonly DeadLetter[]): Promise<void> {
    if (this.#closed) return Promise.reject(new UploaderClosedError());
    if (this.#readOnly) return Promise.reject(readOnlyError());
    if (letters.length === 0) return Promise.resolve();
    for (const letter of letters) {
      if (!isDeadLetter(letter)) {
        return Promise.reject(new TypeError(`Expected a dead letter, got ${JSON.stringify(letter)}`));
      }
    }
    const text = letters.map((letter) => `${identity(letter)}\n`).join('');
    return new Promise((resolve, reject) => {
      this.#pending.push({ text, resolve, reject });
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        void this.#write(() => this.#appendPending());
      }
    });
  }

  async keepBlob(source: string, file: string): Promise<boolean> {
    if (this.#closed) throw new UploaderClosedError();
    if (this.#readOnly) throw readOnlyError();
    if (!isPlainFileName(file))
      throw new TypeError(`Expected \`file\` to be a file name, got ${JSON.stringify(file)}`);
    const directory = join(this.directory, DEAD_LETTER_BLOBS);
    try {
      await linkOrCopy(source, join(directory, file));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      // Kept by an earlier attempt whose letter was written but whose queue entry was not acknowledged:
      // file names are unique per copy, so these are the same bytes.
      if (code !== 'EEXIST') throw error;
    }
    await syncDirectory(directory);
    return true;
  }

  blobPath(file: string): string {
    return join(this.directory, DEAD_LETTER_BLOBS, file);
  }

  async list(options: DeadLetterListOptions = {}): Promise<DeadLetter[]> {
    const { limit, offset } = validatePaging(options);
    const letters: DeadLetter[] = [];
    if (limit === 0) return letters;
    let skipped = 0;
    await forEachLetter(this.#path, (letter) => {
      if (skipped < offset) skipped += 1;
      else letters.push(letter);
      return letters.length < limit;
    });
    return letters;
  }

  async count(): Promise<number> {
    let count = 0;
    await forEachLetter(this.#path, () => {
      count += 1;
      return true;
    });
    return count;
  }

  remove(letters: readonly DeadLetter[]): Promise<void> {
    if (this.#closed) return Promise.reject(new UploaderClosedError());
    if (this.#readOnly) return Promise.reject(readOnlyError());
    if (letters.length === 0) return Promise.resolve();
    const doomed = new Set(letters.map(identity));
    return this.#write(async () => {
      const kept: DeadLetter[] = [];
      const removed: DeadLetter[] = [];
      await forEachLetter(this.#path, (letter) => {
        (doomed.has(identity(letter)) ? removed : kept).push(letter);
        return true;
      });
      if (removed.length === 0) return;
      await this.#handle!.close();
      this.#handle = undefined;
      try {
        // Readers (the CLI) see the old file or the new one, and a crash leaves one of them whole.
        await writeFileAtomic(this.#path, kept.map((letter) => `${identity(letter)}\n`).join(''));
      } finally {
        this.#handle = await open(this.#path, 'a+');
      }
      const named = new Set(kept.map((letter) => letter.file));
      for (const letter of removed) {
        if (letter.file !== undefined && !named.has(letter.file)) {
          await rm(this.blobPath(letter.file), { force: true });
        }
      }
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    await this.#writes;
    await this.#handle?.close();
  }

  /** Runs `task` after every write queued before it; its failure goes to its caller only. */
  #write(task: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(task);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async #appendPending(): Promise<void> {
    this.#flushQueued = false;
    const batch = this.#pending.splice(0);
    try {
      if (this.#handle === undefined)
        throw new Error('the dead-letter file could not be reopened after a rewrite');
      // A failed append (disk full) may have left part of a line: start on a line of our own.
      const text = batch.map((add) => add.text).join('');
      await this.#handle.appendFile(this.#torn ? `\n${text}` : text);
      await syncFileData(this.#handle);
      this.#torn = false;
      for (const add of batch) add.resolve();
    } catch (error) {
      this.#torn = true;
      for (const add of batch) add.reject(error);
    }
  }
}

function readOnlyError(): TypeError {
  return new TypeError('This dead-letter store was opened with `readOnly: true`');
}

/**
 * Deletes kept blob bytes no letter names: left by a crash between keeping them and writing their letter
 * (the item was still queued and is tried again), or between removing requeued letters and their bytes.
 */
async function sweepKeptBlobs(store: FileDeadLetterStore): Promise<void> {
  const directory = join(store.directory, DEAD_LETTER_BLOBS);
  const files = await readdir(directory);
  if (files.length === 0) return;
  const named = new Set<string>();
  for (const letter of await store.list()) if (letter.file !== undefined) named.add(letter.file);
  for (const file of files) {
    if (!named.has(file)) await rm(join(directory, file), { force: true });
  }
}

/**
 * Opens the dead-letter store in `options.directory`. A writer first ends a line torn by an earlier crash,
 * so the next letter starts on a line of its own, and deletes kept blob bytes no letter names. Only one
 * writer may have a store open: the uploader's queue locks guard its directory.
 */
export async function openDeadLetterStore(options: DeadLetterStoreOptions): Promise<DeadLetterStore> {
  const { directory, readOnly = false } = options;
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(`Expected \`directory\` to be a non-empty path, got ${JSON.stringify(directory)}`);
  }
  if (readOnly) return new FileDeadLetterStore(directory, undefined);
  await mkdir(join(directory, DEAD_LETTER_BLOBS), { recursive: true });
  const path = join(directory, DEAD_LETTER_FILE);
  const handle = await open(path, 'a+');
  let store: FileDeadLetterStore;
  try {
    // The file may have just been created: its directory entry must be durable too.
    await syncDirectory(directory);
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        await handle.appendFile('\n');
        await syncFileData(handle);
      }
    }
    store = new FileDeadLetterStore(directory, handle);
    await sweepKeptBlobs(store);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return store;
}
