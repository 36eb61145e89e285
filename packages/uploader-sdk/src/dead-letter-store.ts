import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fsyncDirectory } from './disk-queue/atomic-file.js';
import { UploaderClosedError } from './errors.js';

/** File name of the dead letters inside the store's directory: one JSON object per line. */
export const DEAD_LETTER_FILE = 'dead-letters.jsonl';

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

/** Durable, append-only store of dead letters. */
export interface DeadLetterStore {
  /** Appends letters; resolves once they are fsync'd. Concurrent calls share one write and fsync. */
  add(letters: readonly DeadLetter[]): Promise<void>;
  /** Letters oldest first, streamed from disk; lines torn by a crash are skipped. */
  list(options?: DeadLetterListOptions): Promise<DeadLetter[]>;
  /** How many letters the store holds. */
  count(): Promise<number>;
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
  readonly #path: string;
  readonly #handle: FileHandle | undefined;
  #pending: PendingAdd[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #torn = false;

  constructor(path: string, handle: FileHandle | undefined) {
    this.#path = path;
    this.#handle = handle;
  }

  add(letters: readonly DeadLetter[]): Promise<void> {
    if (this.#closed) return Promise.reject(new UploaderClosedError());
    if (this.#handle === undefined) {
      return Promise.reject(new TypeError('This dead-letter store was opened with `readOnly: true`'));
    }
    if (letters.length === 0) return Promise.resolve();
    for (const letter of letters) {
      if (!isDeadLetter(letter)) {
        return Promise.reject(new TypeError(`Expected a dead letter, got ${JSON.stringify(letter)}`));
      }
    }
    const text = letters.map((letter) => `${JSON.stringify(letter)}\n`).join('');
    return new Promise((resolve, reject) => {
      this.#pending.push({ text, resolve, reject });
      this.#writing ??= this.#writeLoop();
    });
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

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    while (this.#writing !== undefined) await this.#writing;
    await this.#handle?.close();
  }

  async #writeLoop(): Promise<void> {
    // Yield once so that `#writing` is assigned before the loop can finish and clear it.
    await Promise.resolve();
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0);
        try {
          // A failed append (disk full) may have left part of a line: start on a line of our own.
          const text = batch.map((add) => add.text).join('');
          await this.#handle!.appendFile(this.#torn ? `\n${text}` : text);
          await this.#handle!.datasync();
          this.#torn = false;
          for (const add of batch) add.resolve();
        } catch (error) {
          this.#torn = true;
          for (const add of batch) add.reject(error);
        }
      }
    } finally {
      this.#writing = undefined;
      if (this.#pending.length > 0) this.#writing = this.#writeLoop();
    }
  }
}

/**
 * Opens the dead-letter store in `options.directory`. A writer first ends a line torn by an earlier crash,
 * so the next letter starts on a line of its own.
 */
export async function openDeadLetterStore(options: DeadLetterStoreOptions): Promise<DeadLetterStore> {
  const { directory, readOnly = false } = options;
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(`Expected \`directory\` to be a non-empty path, got ${JSON.stringify(directory)}`);
  }
  const path = join(directory, DEAD_LETTER_FILE);
  if (readOnly) return new FileDeadLetterStore(path, undefined);
  await mkdir(directory, { recursive: true });
  const handle = await open(path, 'a+');
  try {
    // The file may have just been created: its directory entry must be durable too.
    await fsyncDirectory(directory);
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        await handle.appendFile('\n');
        await handle.datasync();
      }
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  return new FileDeadLetterStore(path, handle);
}
