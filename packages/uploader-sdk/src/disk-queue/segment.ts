/** In-memory state of one segment file. */
export interface Segment {
  /** Seq of the first entry written to it; the file is named after it. */
  readonly firstSeq: number;
  readonly path: string;
  /** Bytes readers may read: durable (`fsync`) or written (`os`) whole frames. */
  size: number;
  /** Nothing more will be written to it, so readers move on at its end. */
  sealed: boolean;
  /** Entries in it not yet acknowledged (and not yet skipped by a reader if acknowledged unread). */
  live: number;
  /** Bytes that the scan at open already checked, so damage there is not counted twice. */
  readonly scannedBytes: number;
}
