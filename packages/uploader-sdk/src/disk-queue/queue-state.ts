import type { AckSet } from './ack-set.js';
import type { RecoveredSegments } from './recover-segments.js';
import type { Segment } from './segment.js';
import type { DiskQueueStats } from './types.js';

/** An entry handed out by `read` and not yet acknowledged or dropped. */
export interface InFlightEntry {
  readonly bytes: number;
  readonly appendedAt: number;
  readonly segment: Segment;
}

/**
 * What the writer, reader and ledger of one open queue share: its segments, its acks and its counters.
 * Only those three change it, each for its own concern; this class keeps the bookkeeping they have in
 * common in one place.
 */
export class QueueState {
  readonly acks: AckSet;
  /** Segments still on disk, ascending by first seq; the last may be the one being written. */
  readonly segments: Segment[];
  readonly inFlight = new Map<number, InFlightEntry>();
  /** Seqs acknowledged before a reader reached them; their bytes are released when one passes them. */
  readonly ackedUnread = new Set<number>();
  /** Next seq to assign. */
  nextSeq: number;
  /** Every seq below this is durable (or failed). */
  committedSeq: number;
  /** Every seq below this was handed out or skipped by `read`. */
  readFrontier = 0;
  entries: number;
  bytes: number;
  unread: number;
  corruptSkipped: number;
  dropped = 0;
  unreadHeadAppendedAt: number | undefined;
  /** Commits made visible so far. */
  commits = 0;
  closed = false;

  constructor(acks: AckSet, recovered: RecoveredSegments) {
    this.acks = acks;
    this.segments = recovered.segments;
    this.nextSeq = Math.max(recovered.highestSeq, acks.highest) + 1;
    this.committedSeq = this.nextSeq;
    this.entries = recovered.entries;
    this.bytes = recovered.bytes;
    this.unread = recovered.entries;
    this.corruptSkipped = recovered.corruptSkipped;
    this.unreadHeadAppendedAt = recovered.oldestAppendedAt;
  }

  /** An acknowledged or dropped entry stops counting against the quota and its segment. */
  release(segment: Segment, bytes: number): void {
    this.bytes -= bytes;
    segment.live -= 1;
  }

  /** The counters as `DiskQueue.stats` reports them. */
  stats(): DiskQueueStats {
    const oldestInFlight = this.inFlight.values().next();
    return {
      entries: this.entries,
      bytes: this.bytes,
      unread: this.unread,
      corruptSkipped: this.corruptSkipped,
      dropped: this.dropped,
      oldestAppendedAt: oldestInFlight.done
        ? this.unread > 0
          ? this.unreadHeadAppendedAt
          : undefined
        : oldestInFlight.value.appendedAt,
    };
  }
}
