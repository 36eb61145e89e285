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
  /**
   * Where the record starting at `offset` ends when the multiline idle timeout ended it: saved before that
   * record ships, so that reading again from `offset` (after a kill) ends it at the same byte, whatever
   * lines were appended since (they would join it under the same id: a conflict, and lost lines).
   */
  cut?: number;
  /**
   * True when the record starting at `offset` is the rest of one cut at `maxLineBytes`: reading again
   * from `offset` flags it `truncated`, as reading straight on did.
   */
  continued?: boolean;
  /** The hash of the file's first line alone (no inode): what a copy of it shares. Absent in old files. */
  head?: string;
  /**
   * The hash of the bytes just before `offset` (see `readBefore`): reading resumes at `offset` only if the
   * file still holds them there. A file rewritten with its first line while the tailer was down, or a new
   * file that got a deleted one's inode and first line, is read from its start instead of from a place
   * that is not where reading stood. Absent at offset 0 and in old files.
   */
  before?: string;
  /**
   * The ids of this entry's lines when they are not `<fingerprint>.<generation>`: a copy made by
   * copytruncate is read under the identity of the generation it is a copy of (see `previous`).
   */
  as?: { readonly fingerprint: string; readonly generation: number };
  /**
   * Generations of this entry's file that were truncated (or rewritten) in place, most recent last, kept
   * for a short while: a new file whose first line hashes to `head` with at least `offset` bytes is their
   * copy (copytruncate) and is read from `offset` under the old ids.
   */
  previous?: PreviousGeneration[];
}

/** Where reading of a generation stood when its file was found truncated in place. */
export interface PreviousGeneration {
  /** Its ids: `<fingerprint>.<generation>:<offset>`. */
  readonly fingerprint: string;
  readonly generation: number;
  /** Every line before it is durably enqueued. */
  readonly offset: number;
  /** The `ts` of its records from `offset` on. */
  readonly ts: number;
  /** The hash of its first line alone. */
  readonly head: string;
  /** The hash of the bytes just before `offset` (see {@link CheckpointEntry.before}). */
  readonly before?: string;
  /** When the truncation was found (epoch ms). */
  readonly at: number;
}

/** How many truncated generations an entry remembers. */
const MAX_PREVIOUS = 8;

/**
 * The file of `entry` is no longer what it described (truncated, rewritten, or its inode now holds another
 * first line): it becomes a new generation read from 0, and the old one is remembered in `previous` (when
 * anything of it was read) so that a copy of it can be read on from where reading stood.
 */
export function detachGeneration(entry: CheckpointEntry, now: number): void {
  if (entry.head !== undefined && entry.offset > 0) {
    const previous: PreviousGeneration = {
      fingerprint: entry.as?.fingerprint ?? entry.fingerprint,
      generation: entry.as?.generation ?? entry.generation,
      offset: entry.offset,
      ts: entry.ts,
      head: entry.head,
      ...(entry.before === undefined ? {} : { before: entry.before }),
      at: now,
    };
    entry.previous = [...(entry.previous ?? []), previous].slice(-MAX_PREVIOUS);
  }
  entry.generation += 1;
  entry.offset = 0;
  entry.ts = now;
  delete entry.before;
  delete entry.unterminated;
  delete entry.cut;
  delete entry.continued;
  delete entry.as;
}

const BASE64URL_22 = /^[A-Za-z0-9_-]{22}$/;

/** Absent, or 22 base64url characters. */
function isHashOrAbsent(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && BASE64URL_22.test(value));
}

function isIdentity(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { fingerprint, generation } = value as Record<string, unknown>;
  return (
    typeof fingerprint === 'string' &&
    BASE64URL_22.test(fingerprint) &&
    Number.isSafeInteger(generation) &&
    (generation as number) >= 0
  );
}

function isPrevious(value: unknown): value is PreviousGeneration {
  if (typeof value !== 'object' || value === null) return false;
  const previous = value as Record<string, unknown>;
  const count = (key: string): boolean =>
    Number.isSafeInteger(previous[key]) && (previous[key] as number) >= 0;
  return (
    typeof previous.fingerprint === 'string' &&
    BASE64URL_22.test(previous.fingerprint) &&
    typeof previous.head === 'string' &&
    BASE64URL_22.test(previous.head) &&
    isHashOrAbsent(previous.before) &&
    count('generation') &&
    count('offset') &&
    count('ts') &&
    count('at')
  );
}

const FORMAT_VERSION = 1;

function isEntry(value: unknown): value is CheckpointEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const count = (key: string): boolean => Number.isSafeInteger(entry[key]) && (entry[key] as number) >= 0;
  return (
    typeof entry.fingerprint === 'string' &&
    BASE64URL_22.test(entry.fingerprint) &&
    typeof entry.file === 'string' &&
    count('generation') &&
    count('offset') &&
    count('ts') &&
    count('ino') &&
    count('seenAt') &&
    (entry.unterminated === undefined || typeof entry.unterminated === 'boolean') &&
    (entry.cut === undefined || (count('cut') && (entry.cut as number) > (entry.offset as number))) &&
    (entry.continued === undefined || typeof entry.continued === 'boolean') &&
    isHashOrAbsent(entry.head) &&
    isHashOrAbsent(entry.before) &&
    (entry.as === undefined || isIdentity(entry.as)) &&
    (entry.previous === undefined || (Array.isArray(entry.previous) && entry.previous.every(isPrevious)))
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

  /**
   * Drops entries last seen before `seenBefore`, and truncated generations found before `truncatedBefore`
   * (their copies are no longer looked for); returns how many. Saved by the next `save`.
   */
  expire(seenBefore: number, truncatedBefore = seenBefore): number {
    let dropped = 0;
    for (const [fingerprint, entry] of this.#entries) {
      if (entry.seenAt < seenBefore) {
        this.#entries.delete(fingerprint);
        dropped += 1;
      } else if (entry.previous !== undefined) {
        const kept = entry.previous.filter((previous) => previous.at >= truncatedBefore);
        dropped += entry.previous.length - kept.length;
        if (kept.length === 0) delete entry.previous;
        else entry.previous = kept;
      }
    }
    return dropped;
  }

  /**
   * The most recent truncated generation, found since `since`, whose first line hashes to `head`: what a
   * new file with that first line may be a copy of. Returned with the entry that remembers it.
   */
  findPrevious(
    head: string,
    since: number,
  ): { entry: CheckpointEntry; previous: PreviousGeneration } | undefined {
    let found: { entry: CheckpointEntry; previous: PreviousGeneration } | undefined;
    for (const entry of this.#entries.values()) {
      for (const previous of entry.previous ?? []) {
        if (previous.head !== head || previous.at < since) continue;
        if (found === undefined || previous.at > found.previous.at) found = { entry, previous };
      }
    }
    return found;
  }

  /** The truncated generations found since `since` whose copies are still looked for. */
  previousSince(since: number): PreviousGeneration[] {
    const found: PreviousGeneration[] = [];
    for (const entry of this.#entries.values())
      for (const previous of entry.previous ?? []) if (previous.at >= since) found.push(previous);
    return found;
  }

  /** Forgets a truncated generation (its copy was found). */
  dropPrevious(entry: CheckpointEntry, previous: PreviousGeneration): void {
    const kept = (entry.previous ?? []).filter((other) => other !== previous);
    if (kept.length === 0) delete entry.previous;
    else entry.previous = kept;
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
    // The directory removed while the tailer runs is made again: the write fails only while it cannot be.
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, text);
  }
}
