import type { Limits } from '@sluice/contracts';
import type { RequeueResult } from './dead-letter-requeue.js';
import type { DeadLetter } from './dead-letter-store.js';
import type { UploaderEvents, UploaderListener } from './events.js';
import type { FlushOptions, FlushResult } from './flush-tracker.js';
import type { BlobInput, RecordInput } from './item-input.js';

/** A snapshot of the uploader's state. */
export interface UploaderStats {
  /** Items (records and blobs) on disk not yet acknowledged or dead-lettered. */
  readonly queued: number;
  /** Bytes of those items on disk (records' JSON plus blob copies). */
  readonly queuedBytes: number;
  /** Blobs among `queued`. */
  readonly queuedBlobs: number;
  /** Items in requests right now. */
  readonly inFlight: number;
  /** Items the server acknowledged (stored or duplicate) since start. */
  readonly delivered: number;
  /** Items among `delivered` the server already had (a retry of something it stored). */
  readonly duplicates: number;
  /** Items dead-lettered since start. */
  readonly dead: number;
  /** Item retries since start (one item retried twice counts twice). */
  readonly retries: number;
  /** Records dropped by `whenFull: 'drop-oldest'` since start. */
  readonly dropped: number;
  /** Queue records skipped at open because of a torn write or corruption. */
  readonly corruptSkipped: number;
  /** The adaptive record request concurrency. */
  readonly concurrency: number;
  /** Age of the oldest queued item in ms (0 when empty). */
  readonly oldestAgeMs: number;
  /** True while sending is paused because the API key was refused. */
  readonly paused: boolean;
  /** The server limits in use (the contract defaults until the server answered `GET /v1/limits`). */
  readonly limits: Limits;
}

/** The uploader: a durable queue on disk drained to the ingest API exactly once. */
export interface Uploader {
  /**
   * Queues a record; resolves once it is durable on disk.
   * @throws {TypeError} for an invalid type, id, ts or data. @throws {QueueFullError} when the quota is reached
   * under `whenFull: 'reject'`. @throws {UploaderClosedError} after `close()`. Rejects with the file
   * system's error (ENOSPC, EMFILE, EIO…) when the record cannot be written, or an `AggregateError` when
   * cleaning up after that failed too. A rejected enqueue is never delivered, not even after a restart.
   */
  enqueue(item: RecordInput): Promise<{ id: string }>;
  /**
   * Copies a blob into the queue directory (hashing it while copying) and queues it; resolves once durable.
   * @throws {TypeError} for invalid fields. @throws {RangeError} for a blob above the server's size limit.
   * @throws {QueueFullError} when the blob quota is reached. @throws {UploaderClosedError} after `close()`.
   * @throws {TypeError} for a `body` path that is not a regular file (a device, a FIFO, a directory).
   * Rejects with the file system's error when the copy or its queue entry cannot be written; a rejected
   * enqueue is never delivered.
   */
  enqueueBlob(blob: BlobInput): Promise<{ id: string }>;
  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): () => void;
  /** Adds a listener that runs once. */
  once<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): () => void;
  /** Removes a listener. */
  off<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): void;
  /**
   * Waits until everything enqueued before the call is delivered or dead-lettered (through outages and auth
   * pauses), until `timeoutMs` passed, or until `close()` ends it; resolves with what it achieved. What was
   * not delivered stays queued on disk for later (or the next start). While it is pending the process stays
   * alive; an idle uploader never keeps it alive.
   * @throws {TypeError} for a bad `timeoutMs`. @throws {UploaderClosedError} when called after `close()`.
   */
  flush(options?: FlushOptions): Promise<FlushResult>;
  /**
   * Stops cleanly: pending enqueues finish, no new request starts, requests already sent get up to 2 s to
   * finish (their items are resent after the next start otherwise), queues close. A pending `flush()`
   * resolves with `closed: true`. Nothing durable is lost, and no event is emitted once it resolved. The
   * process stays alive until it resolves. Idempotent.
   */
  close(): Promise<void>;
  stats(): UploaderStats;
  /**
   * Dead letters on disk, oldest first: records and blobs with the server's status and reason. A blob's
   * bytes are kept in `<directory>/dead-letters/blobs/<file>`.
   */
  deadLetters(options?: { readonly limit?: number; readonly offset?: number }): Promise<DeadLetter[]>;
  /**
   * Puts dead letters back in the queue (all of them without `ids`) with their ids, timestamps, content
   * and hashes unchanged, once you fixed what refused them (e.g. with `setApiKey`). Durable before it
   * resolves; a crash midway leaves each item a dead letter or queued, never both, never neither. An
   * item requeued twice is queued once: its dead letter is gone after the first.
   * @throws {TypeError} when `ids` is not an array of strings. @throws {QueueFullError} when the items do
   * not fit the quotas. @throws {UploaderClosedError} after `close()`.
   */
  requeue(ids?: readonly string[]): Promise<RequeueResult>;
  /** Replaces the API key and resumes sending at once if it was paused. */
  setApiKey(apiKey: string): void;
}
