/** When the queue's byte quota is reached: refuse new items, or make room by dropping the oldest. */
export type WhenFull = 'reject' | 'drop-oldest';

/** `fsync`: an append resolves once fsync'd (group-committed). `os`: once written to the OS. */
export type Durability = 'fsync' | 'os';

export interface DiskQueueOptions {
  /** Directory the queue owns exclusively (a lock file keeps a second process out). Created if missing. */
  readonly directory: string;
  /** @default 'fsync' */
  readonly durability?: Durability;
  /** Quota of un-acknowledged payload bytes kept on disk. @default 268_435_456 (256 MiB) */
  readonly maxBytes?: number;
  /** @default 'reject' */
  readonly whenFull?: WhenFull;
  /** A segment file is closed and a new one started past this size. @default 8_388_608 (8 MiB) */
  readonly segmentBytes?: number;
  /** Called with entries dropped by `whenFull: 'drop-oldest'`, before their space is reused. */
  readonly onDrop?: (entries: readonly QueueEntry[]) => void | Promise<void>;
}

/** One durable entry. `seq` increases by one per append, across segments and restarts. */
export interface QueueEntry {
  readonly seq: number;
  readonly payload: Uint8Array;
}

export interface DiskQueueStats {
  /** Entries on disk not yet acknowledged (read or not). */
  readonly entries: number;
  /** Payload bytes of those entries. */
  readonly bytes: number;
  /** Entries not yet handed out by `read` in this process. */
  readonly unread: number;
  /** Records skipped at open or read because of a torn write or a checksum failure. */
  readonly corruptSkipped: number;
  /** Entries dropped by `whenFull: 'drop-oldest'` since open. */
  readonly dropped: number;
  /** Append time (epoch ms) of the oldest un-acknowledged entry, if any. */
  readonly oldestAppendedAt: number | undefined;
}

/**
 * An append-only, crash-safe FIFO of byte payloads on disk. Entries are handed out by `read` once per
 * process and stay on disk until `ack`ed; after a restart every un-acknowledged entry is read again.
 */
export interface DiskQueue {
  /** Appends one payload; resolves with its seq once it is durable per `durability`. */
  append(payload: Uint8Array): Promise<number>;
  /** Appends several payloads in order in one commit; resolves with their seqs. */
  appendMany(payloads: readonly Uint8Array[]): Promise<number[]>;
  /** Up to `maxEntries` / about `maxBytes` (at least one entry) of entries not yet read, oldest first. */
  read(maxEntries: number, maxBytes: number): Promise<QueueEntry[]>;
  /** Resolves when there is something to `read`, or when the signal aborts or the queue closes. */
  waitForUnread(signal?: AbortSignal): Promise<void>;
  /**
   * Calls `visit` with every entry on disk not yet acknowledged, oldest first, read or not; hands nothing
   * out and changes nothing. Entries appended while it runs may or may not be visited.
   */
  scan(visit: (entry: QueueEntry) => void): Promise<void>;
  /** Durably records these entries as done; fully acknowledged segments are deleted. */
  ack(seqs: readonly number[]): Promise<void>;
  stats(): DiskQueueStats;
  /** Finishes pending commits and releases the lock. Idempotent. */
  close(): Promise<void>;
}
