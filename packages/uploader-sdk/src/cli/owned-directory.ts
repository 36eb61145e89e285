import { join } from 'node:path';
import { BlobFiles } from '../blob-files.js';
import { type RequeueDeps, recoverRequeue } from '../dead-letter-requeue.js';
import { openDeadLetterStore } from '../dead-letter-store.js';
import { openDiskQueue } from '../disk-queue/index.js';
import { DEFAULT_UPLOADER_OPTIONS } from '../options.js';

/**
 * Runs `task` on the queues and stores of the uploader directory `directory` without starting an
 * uploader: takes the directory's locks, finishes a requeue a crash interrupted, runs `task`, and closes.
 * @throws {QueueLockedError} while an uploader owns the directory.
 */
export async function withOwnedDirectory<T>(
  directory: string,
  task: (deps: RequeueDeps) => Promise<T>,
): Promise<T> {
  const opened: { close(): Promise<void> }[] = [];
  try {
    const records = await openDiskQueue({ directory: join(directory, 'records') });
    opened.push(records);
    const blobs = await openDiskQueue({ directory: join(directory, 'blobs') });
    opened.push(blobs);
    const deadLetters = await openDeadLetterStore({ directory: join(directory, 'dead-letters') });
    opened.push(deadLetters);
    const files = await BlobFiles.open(
      join(directory, 'blob-data'),
      DEFAULT_UPLOADER_OPTIONS.maxBlobQueueBytes,
      'fsync',
    );
    const deps = { records, blobs, files, deadLetters };
    await recoverRequeue(deps);
    return await task(deps);
  } finally {
    for (const resource of opened.reverse()) await resource.close();
  }
}
