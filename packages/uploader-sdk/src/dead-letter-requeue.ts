import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '@sluice/contracts';
import type { BlobEntry } from './blob-adapter.js';
import type { BlobFiles } from './blob-files.js';
import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js';
import type { DiskQueue } from './disk-queue/types.js';
import { writeFileAtomic } from './durable-file.js';

/** What `requeue` did, by item id (each id once, in the order of the dead letters). */
export interface RequeueResult {
  /** Ids whose dead letters are queued again, with their original id, ts, content and hash. */
  readonly requeued: string[];
  /** Ids asked for that have no dead letter. */
  readonly missing: string[];
  /**
   * Ids whose dead letters cannot be queued again and stay dead letters: blobs whose bytes were already
   * gone when they died (`BLOB_FILE_MISSING`) or that died before bytes were kept.
   */
  readonly unavailable: string[];
}

/** The queues and stores of one uploader directory. */
export interface RequeueDeps {
  readonly records: DiskQueue;
  readonly blobs: DiskQueue;
  readonly files: BlobFiles;
  readonly deadLetters: DeadLetterStore;
}

/** What a requeue appended: seqs per queue and record bytes, for the uploader's flush and batching. */
export interface RequeueOutcome {
  readonly result: RequeueResult;
  readonly recordSeqs: readonly number[];
  readonly recordBytes: number;
  readonly blobSeqs: readonly number[];
}

/**
 * File beside the dead letters naming the letters of a requeue in progress. A crash between appending
 * their entries and removing the letters leaves both; the next open finds this file and removes the
 * letters whose entries are queued.
 */
export const REQUEUE_INTENT_FILE = 'requeue-intent.json';

interface Planned {
  readonly letter: DeadLetter;
  readonly payload: Buffer;
}

/** A record letter's queue payload, byte for byte as `enqueue` serialized it; undefined when malformed. */
function recordPayload(letter: DeadLetter): Buffer | undefined {
  const item = letter.item as { id?: unknown; type?: unknown; ts?: unknown; data?: unknown; hash?: unknown };
  if (typeof item !== 'object' || item === null || item.id !== letter.id || item.data === undefined) {
    return undefined;
  }
  if (typeof item.type !== 'string' || typeof item.ts !== 'number' || typeof item.hash !== 'string') {
    return undefined;
  }
  return Buffer.from(
    `{"id":${JSON.stringify(item.id)},"type":${JSON.stringify(item.type)},"ts":${item.ts},"data":${canonicalJson(item.data)},"hash":${JSON.stringify(item.hash)}}`,
  );
}

/** A blob letter's manifest as it was sent; undefined when malformed. */
function blobManifest(letter: DeadLetter): BlobEntry['manifest'] | undefined {
  const manifest = letter.item as Partial<BlobEntry['manifest']> | null;
  if (typeof manifest !== 'object' || manifest === null || manifest.id !== letter.id) return undefined;
  if (typeof manifest.size !== 'number' || typeof manifest.sha256 !== 'string') return undefined;
  return manifest as BlobEntry['manifest'];
}

function validateIds(ids: unknown): ReadonlySet<string> | undefined {
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new TypeError(`Expected \`ids\` to be an array of item ids, got ${JSON.stringify(ids)}`);
  }
  return new Set(ids);
}

function uniqueIds(letters: readonly DeadLetter[]): string[] {
  return [...new Set(letters.map((letter) => letter.id))];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Puts dead letters back in the queues, with their ids, timestamps, content and hashes unchanged, so the
 * server answers them as the same items. One requeue runs at a time. Its steps are ordered for crashes:
 * (1) an intent file names the letters, (2) blob bytes are linked back into `blob-data/`, (3) the entries
 * are appended durably, (4) the letters (and their kept bytes) are removed, (5) the intent file goes. A
 * crash before (3) leaves dead letters; after it, {@link recoverRequeue} at the next open removes the
 * letters whose entries are queued. Acknowledgements wait while a requeue is between (3) and (5), so an
 * item is never delivered while its dead letter still stands.
 */
export class DeadLetterRequeue {
  readonly #deps: RequeueDeps;
  #queue: Promise<unknown> = Promise.resolve();
  #inProgress: Promise<unknown> | undefined;

  constructor(deps: RequeueDeps) {
    this.#deps = deps;
  }

  /** Resolves once no requeue is between appending entries and removing their dead letters. */
  async settled(): Promise<void> {
    while (this.#inProgress !== undefined) await this.#inProgress.catch(() => undefined);
  }

  /**
   * Requeues the dead letters of `ids` (every dead letter when `ids` is undefined).
   * @throws {TypeError} when `ids` is not an array of strings. @throws {QueueFullError} when the entries
   * or blob bytes do not fit the quotas: records are appended first, and stay requeued when the blobs do
   * not fit; the letters of whatever was not appended stay dead letters.
   */
  requeue(ids?: readonly string[]): Promise<RequeueOutcome> {
    let wanted: ReadonlySet<string> | undefined;
    try {
      wanted = validateIds(ids);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#queue.then(() => {
      const work = this.#run(wanted, ids ?? []);
      this.#inProgress = work;
      return work.finally(() => {
        this.#inProgress = undefined;
      });
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(wanted: ReadonlySet<string> | undefined, ids: readonly string[]): Promise<RequeueOutcome> {
    const { records, blobs, files, deadLetters } = this.#deps;
    const letters = (await deadLetters.list()).filter((letter) => wanted?.has(letter.id) ?? true);
    const found = new Set(letters.map((letter) => letter.id));
    const missing = [...new Set(ids)].filter((id) => !found.has(id));
    const recordPlans: Planned[] = [];
    const blobLetters: DeadLetter[] = [];
    const unavailable: DeadLetter[] = [];
    for (const letter of letters) {
      if (letter.kind === 'record') {
        const payload = recordPayload(letter);
        if (payload === undefined) unavailable.push(letter);
        else recordPlans.push({ letter, payload });
      } else if (
        letter.file !== undefined &&
        blobManifest(letter) !== undefined &&
        (await exists(deadLetters.blobPath(letter.file)))
      ) {
        blobLetters.push(letter);
      } else {
        unavailable.push(letter);
      }
    }
    const unavailableIds = uniqueIds(unavailable);
    const empty = { recordSeqs: [], recordBytes: 0, blobSeqs: [] };
    if (recordPlans.length === 0 && blobLetters.length === 0) {
      return { result: { requeued: [], missing, unavailable: unavailableIds }, ...empty };
    }

    const intent = join(deadLetters.directory, REQUEUE_INTENT_FILE);
    const planned = [...recordPlans.map((plan) => plan.letter), ...blobLetters];
    await writeFileAtomic(intent, JSON.stringify({ letters: planned }));
    const done: DeadLetter[] = [];
    let recordSeqs: number[] = [];
    let blobSeqs: number[] = [];
    let failure: unknown;
    try {
      if (recordPlans.length > 0) {
        recordSeqs = await records.appendMany(recordPlans.map((plan) => plan.payload));
        done.push(...recordPlans.map((plan) => plan.letter));
      }
      if (blobLetters.length > 0) blobSeqs = await this.#appendBlobs(blobLetters, files, blobs);
      done.push(...blobLetters);
    } catch (error) {
      failure = error;
    }
    // Removing the letters (step 4) is what a crash recovery would do; if it fails, the intent file stays
    // so that the next open finishes it.
    await deadLetters.remove(done);
    await rm(intent, { force: true });
    if (failure !== undefined) throw failure;
    const recordBytes = recordPlans.reduce((sum, plan) => sum + plan.payload.byteLength, 0);
    const requeued = new Set(done);
    return {
      result: {
        requeued: uniqueIds(letters.filter((letter) => requeued.has(letter))),
        missing,
        unavailable: unavailableIds,
      },
      recordSeqs,
      recordBytes,
      blobSeqs,
    };
  }

  /** Links each blob's kept bytes back into `blob-data/` and appends their entries in one commit. */
  async #appendBlobs(letters: readonly DeadLetter[], files: BlobFiles, blobs: DiskQueue): Promise<number[]> {
    const copies: { readonly file: string; readonly size: number }[] = [];
    try {
      for (const letter of letters) {
        copies.push(await files.adopt(letter.id, this.#deps.deadLetters.blobPath(letter.file!)));
      }
      return await blobs.appendMany(
        letters.map((letter, index) => {
          const entry: BlobEntry = { manifest: blobManifest(letter)!, file: copies[index]!.file };
          return Buffer.from(JSON.stringify(entry));
        }),
      );
    } catch (error) {
      for (const copy of copies) await files.remove(copy.file, copy.size);
      throw error;
    }
  }
}

/**
 * Finishes a requeue a crash interrupted (see {@link DeadLetterRequeue}): removes the letters named by
 * the intent file whose entries are queued, keeps the others as dead letters, and deletes the file. Run
 * at open, before anything is read from the queues.
 */
export async function recoverRequeue(deps: RequeueDeps): Promise<void> {
  const { records, blobs, deadLetters } = deps;
  const intent = join(deadLetters.directory, REQUEUE_INTENT_FILE);
  let named: DeadLetter[];
  try {
    named = (JSON.parse(await readFile(intent, 'utf8')) as { letters: DeadLetter[] }).letters;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const identities = new Set(named.map((letter) => JSON.stringify(letter)));
  const standing = (await deadLetters.list()).filter((letter) => identities.has(JSON.stringify(letter)));
  if (standing.length > 0) {
    // What the requeue appended is byte for byte what these letters rebuild, so queued ones are found
    // by content, not only by id.
    const queuedRecords = new Set<string>();
    const queuedBlobs = new Set<string>();
    if (standing.some((letter) => letter.kind === 'record')) {
      await records.scan((entry) => queuedRecords.add(Buffer.from(entry.payload).toString('utf8')));
    }
    if (standing.some((letter) => letter.kind === 'blob')) {
      await blobs.scan((entry) => {
        const { manifest } = JSON.parse(Buffer.from(entry.payload).toString('utf8')) as BlobEntry;
        queuedBlobs.add(JSON.stringify(manifest));
      });
    }
    const queued = standing.filter((letter) =>
      letter.kind === 'record'
        ? queuedRecords.has(recordPayload(letter)?.toString('utf8') ?? '')
        : queuedBlobs.has(JSON.stringify(blobManifest(letter) ?? null)),
    );
    await deadLetters.remove(queued);
  }
  await rm(intent, { force: true });
}
