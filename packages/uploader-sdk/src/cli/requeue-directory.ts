import { DeadLetterRequeue, type RequeueResult } from '../dead-letter-requeue.js';
import { withOwnedDirectory } from './owned-directory.js';

/**
 * Requeues dead letters of the uploader directory `directory` (all without `ids`) without starting an
 * uploader. The items go out with the next uploader on the directory.
 * @throws {QueueLockedError} while an uploader owns the directory.
 */
export function requeueDirectory(directory: string, ids?: readonly string[]): Promise<RequeueResult> {
  return withOwnedDirectory(
    directory,
    async (deps) => (await new DeadLetterRequeue(deps).requeue(ids)).result,
  );
}
