import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../durable-file.js';

/** Where reading of one file (one fingerprint) stands. */
export interface CheckpointEntry {
  readonly fingerprint: string;
  /** Bumped each time the file was found truncated or rewritten in place: a new id space for its lines. */
  generation: number;
  /** Every line before this byte offset is durably enqueued; reading resumes here. Always a record start. */
  offset: number;
  /** `ts` of the records read from `offset` on (see the README: fixed before they are read). */
  ts: number;
  /** The path the file had when first seen: its records' `file`, kept across renames. */
  readonly file: string;
  /** The file's inode, to find it again after a rotation while the tailer was down. */
  ino: number;
  /** When the file was last seen (epoch ms); entries of files gone longer than the TTL expire. */
  seenAt: number;
  /**
   * True when `offset` ends an unterminated last line sent once its rotated file went idle: the only
   * checkpoint that may follow something other than a newline.
   */
  unterminated?: boolean;
}

const FORMAT_VERSION = 1;

function isEntry(value: unknown): value is CheckpointEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const count = (key: string): boolean => Number.isSafeInteger(entry[key]) && (entry[key] as number) >= 0;
  return (
    typeof entry.fingerprint === 'string' &&
    /^[A-Za-z0-9_-]{22}$/.test(entry.fingerprint) &&
    typeof entry.file === 'string' &&
    count('generation') &&
    count('offset') &&
    count('ts') &&
    count('ino') &&
    count('seenAt') &&
    (entry.unterminated === undefined || typeof entry.unterminated === 'boolean')
  );
}

/**
 * The checkpoints of one tailer, in one JSON file `{ "version": 1, "entries": [...] }` replaced atomically
 * (write, fsync, rename, fsync the directory) by `durable-file`. Saves are coalesced: one write at a time,
 * and callers that asked while it ran share the next one.
 */
export class CheckpointStore {
  readonly path: string;
  readonly #entries = new Map<string, CheckpointEntry>();
  #writing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Loads the checkpoints at `path`. A missing file is empty; an unreadable, empty, truncated or garbled one
   * is reported through `warn` and treated as empty (files are then read from their start: their lines are
   * sent again and the server answers them as duplicates); invalid entries are skipped the same way.
   * Nothing expires on load: however long the tailer was stopped, an entry expires only once the tailer has
   * looked for its file and not found it for the TTL (see `Tailer`).
   */
  static async open(
    path: string,
    warn: (message: string, cause?: unknown) => void,
  ): Promise<CheckpointStore> {
    const store = new CheckpointStore(path);
    await mkdir(dirname(path), { recursive: true });
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        warn(`could not read the checkpoint file ${path}; reading files from their start`, error);
      }
      return store;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      warn(
        `the checkpoint file ${path} is not valid JSON (empty or torn); reading files from their start`,
        error,
      );
      return store;
    }
    const entries = (parsed as { version?: unknown; entries?: unknown } | null)?.entries;
    if ((parsed as { version?: unknown } | null)?.version !== FORMAT_VERSION || !Array.isArray(entries)) {
      warn(`the checkpoint file ${path} has an unknown format; reading files from their start`);
      return store;
    }
    let invalid = 0;
    for (const entry of entries) {
      if (isEntry(entry)) store.#entries.set(entry.fingerprint, { ...entry });
      else invalid += 1;
    }
    if (invalid > 0) warn(`skipped ${invalid} invalid entries of the checkpoint file ${path}`);
    return store;
  }

  get(fingerprint: string): CheckpointEntry | undefined {
    return this.#entries.get(fingerprint);
  }

  set(entry: CheckpointEntry): void {
    this.#entries.set(entry.fingerprint, entry);
  }

  entries(): IterableIterator<CheckpointEntry> {
    return this.#entries.values();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops entries last seen before `seenBefore`; returns how many. Saved by the next `save`. */
  expire(seenBefore: number): number {
    let dropped = 0;
    for (const [fingerprint, entry] of this.#entries) {
      if (entry.seenAt < seenBefore) {
        this.#entries.delete(fingerprint);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** Writes the entries as they are when the write starts; resolves once that write is durable. */
  save(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#writing === undefined) {
      this.#writing = this.#write().finally(() => {
        this.#writing = undefined;
      });
      return this.#writing;
    }
    const next = this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.save();
      });
    this.#queued = next;
    return next;
  }

  async #write(): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, entries: [...this.#entries.values()] });
    await writeFileAtomic(this.path, text);
  }
}
