import { join } from 'node:path';
import type { AckSet } from './ack-set.js';
import type { Segment } from './segment.js';
import { listSegments, segmentFileName } from './segment-files.js';
import { openSegmentForReading, removeSegmentFile } from './segment-io.js';
import { SegmentReader } from './segment-reader.js';

/** What one streaming pass over the segment files found. */
export interface RecoveredSegments {
  /** Segments holding un-acknowledged entries, ascending, all sealed. */
  readonly segments: Segment[];
  /** Segment files with nothing left to deliver; delete them once the ledger is saved. */
  readonly obsolete: string[];
  readonly entries: number;
  readonly bytes: number;
  /** Records lost to torn writes or damage. */
  readonly corruptSkipped: number;
  /** Highest seq found in any frame (0 when none). */
  readonly highestSeq: number;
  /** Append time of the oldest un-acknowledged entry. */
  readonly oldestAppendedAt: number | undefined;
  /** True when `acks` was changed (lost seqs added, watermark raised) and should be saved. */
  readonly acksChanged: boolean;
  /**
   * True when the last segment ends in damage (counted in `corruptSkipped`): a torn tail, or, for a reader
   * that does not own the queue, a frame its owner is still writing.
   */
  readonly lastTailDamaged: boolean;
}

/**
 * Scans every segment file of `directory` once, streaming, to count what is left to deliver. Seqs are
 * consecutive, so a record lost to damage shows up as a gap between the valid frames around it; it is
 * counted in `corruptSkipped` and added to `acks` so it never holds the ledger back. Damage at the end of a
 * segment with no valid frame after it (a torn tail) counts as one record. Nothing here is fatal.
 */
export async function recoverSegments(directory: string, acks: AckSet): Promise<RecoveredSegments> {
  const firstSeqs = await listSegments(directory);
  const segments: Segment[] = [];
  const obsolete: string[] = [];
  let entries = 0;
  let bytes = 0;
  let corruptSkipped = 0;
  let highestSeq = 0;
  let oldestAppendedAt: number | undefined;
  let acksChanged = false;
  let previous: { lastSeq: number; tailDamaged: boolean } | undefined;

  const markLost = (first: number, last: number, atLeastOne: boolean): void => {
    const lost = acks.countMissing(first, last);
    corruptSkipped += atLeastOne ? Math.max(1, lost) : lost;
    if (lost > 0) {
      acks.addRange(first, last);
      acksChanged = true;
    }
  };

  for (const [index, firstSeq] of firstSeqs.entries()) {
    const path = join(directory, segmentFileName(firstSeq));
    const nextFirstSeq = firstSeqs[index + 1];
    highestSeq = Math.max(highestSeq, firstSeq - 1);
    if (nextFirstSeq !== undefined && nextFirstSeq - 1 <= acks.watermark) {
      obsolete.push(path);
      continue;
    }
    if (previous === undefined) {
      // Everything before the oldest segment file was acknowledged before its segment was deleted.
      if (firstSeq - 1 > acks.watermark) acksChanged = true;
      acks.raiseWatermark(firstSeq - 1);
    } else {
      markLost(previous.lastSeq + 1, firstSeq - 1, previous.tailDamaged);
    }

    const handle = await openSegmentForReading(path);
    const reader = new SegmentReader(handle);
    let size: number;
    let expected = firstSeq;
    let damaged = false;
    let live = 0;
    try {
      size = (await handle.stat()).size;
      for (let event = await reader.next(size); event !== undefined; event = await reader.next(size)) {
        if (event.kind === 'corrupt') {
          damaged = true;
          continue;
        }
        const { seq, appendedAt, payload } = event.frame;
        // A valid frame from the past can only be bytes inside another record's payload: not a record.
        if (seq < expected) continue;
        if (seq > expected) markLost(expected, seq - 1, false);
        damaged = false;
        expected = seq + 1;
        if (acks.has(seq)) continue;
        live += 1;
        entries += 1;
        bytes += payload.byteLength;
        oldestAppendedAt ??= appendedAt;
      }
    } finally {
      await reader.close();
    }
    highestSeq = Math.max(highestSeq, expected - 1);
    previous = { lastSeq: expected - 1, tailDamaged: damaged };
    if (live === 0) obsolete.push(path);
    else segments.push({ firstSeq, path, size, sealed: true, live, scannedBytes: size });
  }
  const lastTailDamaged = previous?.tailDamaged === true;
  if (lastTailDamaged) corruptSkipped += 1;
  return {
    segments,
    obsolete,
    entries,
    bytes,
    corruptSkipped,
    highestSeq,
    oldestAppendedAt,
    acksChanged,
    lastTailDamaged,
  };
}

/** Deletes the files `recoverSegments` found obsolete. */
export async function removeSegmentFiles(paths: readonly string[]): Promise<void> {
  for (const path of paths) await removeSegmentFile(path);
}
