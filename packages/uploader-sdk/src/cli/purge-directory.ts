import { withOwnedDirectory } from './owned-directory.js';

/** What a purge did, by item id (each id once, in the order of the dead letters). */
export interface PurgeResult {
  /** Ids whose dead letters (and kept blob bytes) are deleted. */
  readonly purged: string[];
  /** Ids asked for that have no dead letter. */
  readonly missing: string[];
}

/**
 * Deletes dead letters of the uploader directory `directory` (all without `ids`) and the blob bytes they
 * kept, for good, without starting an uploader.
 * @throws {QueueLockedError} while an uploader owns the directory.
 */
export function purgeDirectory(directory: string, ids?: readonly string[]): Promise<PurgeResult> {
  return withOwnedDirectory(directory, async ({ deadLetters }) => {
    const wanted = ids === undefined ? undefined : new Set(ids);
    const doomed = (await deadLetters.list()).filter((letter) => wanted?.has(letter.id) ?? true);
    await deadLetters.remove(doomed);
    const purged = [...new Set(doomed.map((letter) => letter.id))];
    const found = new Set(purged);
    return { purged, missing: [...new Set(ids ?? [])].filter((id) => !found.has(id)) };
  });
}
