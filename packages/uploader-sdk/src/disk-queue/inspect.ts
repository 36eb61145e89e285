import { loadLedgerFile } from './ledger-file.js';
import { recoverSegments } from './recover-segments.js';

/** What a queue directory holds, read from its files without opening the queue. */
export interface DiskQueueSnapshot {
  /** Entries on disk not yet acknowledged. */
  readonly entries: number;
  /** Payload bytes of those entries. */
  readonly bytes: number;
  /** Append time (epoch ms) of the oldest of them, if any. */
  readonly oldestAppendedAt: number | undefined;
  /** Records lost to damage (a frame the owner is still writing is not counted). */
  readonly corruptSkipped: number;
}

/** Passes over a directory whose owner deleted a segment file under us before giving up. */
const ATTEMPTS = 5;

const EMPTY: DiskQueueSnapshot = { entries: 0, bytes: 0, oldestAppendedAt: undefined, corruptSkipped: 0 };

/**
 * Reads what the queue in `directory` holds without taking its lock and without writing anything, so it
 * works while another process owns the queue (the CLI's `status`). It is a snapshot: entries the owner
 * acknowledged after the ledger was read still count, and a frame it is still writing is not an entry
 * yet. A missing directory is an empty queue.
 */
export async function inspectDiskQueue(directory: string): Promise<DiskQueueSnapshot> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { acks } = await loadLedgerFile(directory);
      const recovered = await recoverSegments(directory, acks);
      return {
        entries: recovered.entries,
        bytes: recovered.bytes,
        oldestAppendedAt: recovered.oldestAppendedAt,
        corruptSkipped: recovered.corruptSkipped - (recovered.lastTailDamaged ? 1 : 0),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // The directory is gone, or its owner deleted a fully acknowledged segment: read again.
      if (attempt >= ATTEMPTS) return EMPTY;
    }
  }
}
