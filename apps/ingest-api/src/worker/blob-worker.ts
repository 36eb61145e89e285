import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { blobObjectKey } from '@sluice/contracts';
import PQueue from 'p-queue';
import { asUnavailable } from '../db/connection-errors.js';
import type { Database } from '../db/database.js';
import type { ObjectInfo, ObjectStore } from '../object-store/object-store.js';
import { isObjectStoreError } from '../object-store/object-store-error.js';
import {
  claimBlobs,
  completeBlob,
  type ExpiredLeaseRow,
  expireLeases,
  failBlob,
  releaseLeases,
} from './blob-statements.js';
import { LeaseExpiredError, StagedBytesCorruptError, StagedBytesMissingError } from './blob-worker-errors.js';
import { clientSafeError, LEASE_EXPIRED_ERROR } from './client-safe-error.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_ATTEMPTS,
  retryDelayMs,
} from './retry-schedule.js';
import { stagedBody } from './staged-body.js';

/** The few logger methods the worker uses (pino and Fastify loggers fit). */
export interface WorkerLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** What the worker reports as blobs finish, e.g. to Prometheus counters. */
export interface BlobWorkerHooks {
  /** A blob is now in object storage (`skipped` when identical bytes were already there). */
  onUploaded?(blob: ClaimedBlob, skipped: boolean): void;
  /** An attempt failed; `final` when the blob is now `failed` (until `blobs:retry`). */
  onAttemptFailed?(blob: ClaimedBlob | undefined, final: boolean, error: unknown): void;
}

/** Options of {@link BlobWorker}. */
export interface BlobWorkerOptions {
  /** The database holding `blobs` and `blob_staging`. */
  readonly db: Database;
  /** Where the bytes go. */
  readonly objectStore: ObjectStore;
  /** Name written into `lease_owner`; unique per worker. @default `${hostname}:${pid}:${random}` */
  readonly workerId?: string | undefined;
  /** Uploads running at once. @default 4 */
  readonly concurrency?: number | undefined;
  /** Milliseconds between polls while nothing is due. @default 1000 */
  readonly pollIntervalMs?: number | undefined;
  /**
   * Milliseconds a claim stays valid. An attempt is cancelled before its lease runs out, so a worker
   * never uploads a blob another worker may already have reclaimed. @default 300000
   */
  readonly leaseMs?: number | undefined;
  /** Attempts before a blob is `failed` (until `blobs:retry`). @default 48, see {@link DEFAULT_MAX_ATTEMPTS} */
  readonly maxAttempts?: number | undefined;
  /** Delay after the first failed attempt, doubled per attempt (±25 % jitter). @default 1000 */
  readonly backoffBaseMs?: number | undefined;
  /** Cap on the delay between attempts, before the ±25 % jitter. @default 3600000 */
  readonly backoffMaxMs?: number | undefined;
  /** Receives progress and failures. @default silent */
  readonly logger?: WorkerLogger | undefined;
  /** Callbacks for metrics. @default none */
  readonly hooks?: BlobWorkerHooks | undefined;
}

/** A blob this worker holds the lease of. */
export interface ClaimedBlob {
  /** The source the blob belongs to. */
  readonly source: string;
  /** The blob item's id. */
  readonly id: string;
  /** Hex SHA-256 of the bytes; also names the object (`blobObjectKey`). */
  readonly sha256: string;
  /** Length of the bytes. */
  readonly size: number;
  /** MIME type stored with the object. */
  readonly contentType: string;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

const SILENT: WorkerLogger = { info() {}, warn() {}, error() {} };

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) {
    throw new TypeError(`BlobWorker option ${name} must be a positive integer, got ${String(value)}`);
  }
  return result;
}

/**
 * Moves staged blobs to object storage. Claims due blobs with a lease (`FOR UPDATE SKIP LOCKED`), uploads
 * them with bounded concurrency, marks them `uploaded` and frees their staged bytes. Failed attempts go
 * back to `pending` with exponential backoff until the retry budget is spent, then `failed`. Any number
 * of workers may run against one database.
 */
export class BlobWorker {
  /** The name this worker writes into `lease_owner`. */
  readonly workerId: string;
  readonly #db: Database;
  readonly #store: ObjectStore;
  readonly #concurrency: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #log: WorkerLogger;
  readonly #hooks: BlobWorkerHooks;
  readonly #queue: PQueue;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #lastSweep = 0;
  /** Whether a 403 to HEAD was logged; said once, not per blob. */
  #headDenied = false;
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: BlobWorkerOptions) {
    this.#db = options.db;
    this.#store = options.objectStore;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.#concurrency = positiveInt('concurrency', options.concurrency, 4);
    this.#pollIntervalMs = positiveInt('pollIntervalMs', options.pollIntervalMs, 1000);
    this.#leaseMs = positiveInt('leaseMs', options.leaseMs, 300_000);
    this.#maxAttempts = positiveInt('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS);
    this.#backoffBaseMs = positiveInt('backoffBaseMs', options.backoffBaseMs, DEFAULT_BACKOFF_BASE_MS);
    this.#backoffMaxMs = positiveInt('backoffMaxMs', options.backoffMaxMs, DEFAULT_BACKOFF_MAX_MS);
    this.#log = options.logger ?? SILENT;
    this.#hooks = options.hooks ?? {};
    this.#queue = new PQueue({ concurrency: this.#concurrency });
  }

  /** Starts polling in the background. Calling it again while running does nothing. */
  start(): void {
    if (this.#loop !== undefined || this.#stopped !== undefined) return;
    this.#log.info({ workerId: this.workerId, store: this.#store.description }, 'blob worker started');
    this.#loop = this.#run();
  }

  /**
   * Stops claiming, cancels uploads in flight and hands this worker's leases back (`pending`, the attempt
   * not counted), so another worker picks them up at once. Idempotent; resolves when done.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  /**
   * Claims what is due (up to the free upload slots) and starts uploading it. Resolves with the number of
   * blobs claimed; the uploads continue in the background (see {@link BlobWorker.drain}).
   */
  async claimOnce(): Promise<number> {
    // Expired leases are rare; looking for them once per poll interval is soon enough.
    let expired: ExpiredLeaseRow[] = [];
    if (Date.now() - this.#lastSweep >= this.#pollIntervalMs) {
      this.#lastSweep = Date.now();
      expired = await expireLeases(this.#db, this.#maxAttempts, LEASE_EXPIRED_ERROR);
    }
    for (const row of expired) {
      const final = row.state === 'failed';
      this.#log.warn(
        { id: row.id, final, leaseOwner: row.lease_owner },
        'a blob lease expired; its worker stopped responding',
      );
      this.#hooks.onAttemptFailed?.(
        undefined,
        final,
        new LeaseExpiredError(`lease of blob ${row.id} expired`),
      );
    }
    const free = this.#concurrency - this.#queue.pending - this.#queue.size;
    if (free <= 0 || this.#abort.signal.aborted) return 0;
    const rows = await claimBlobs(this.#db, this.workerId, this.#leaseMs, free);
    for (const row of rows) {
      const blob: ClaimedBlob = {
        source: row.source,
        id: row.id,
        sha256: row.sha256,
        size: Number(row.size),
        contentType: row.content_type,
        attempts: Number(row.attempts),
      };
      this.#queue
        .add(() => this.#attempt(blob))
        .catch((error: unknown) => this.#log.error({ err: error, id: blob.id }, 'blob attempt crashed'));
    }
    return rows.length;
  }

  /** Resolves when no upload of this worker is running or queued. */
  drain(): Promise<void> {
    return this.#queue.onIdle();
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.claimOnce();
      } catch (error) {
        this.#log.warn({ err: error, workerId: this.workerId }, 'blob worker could not claim; will retry');
      }
      if (this.#abort.signal.aborted) break;
      const full = this.#queue.pending + this.#queue.size >= this.#concurrency;
      // All slots busy: claim again as soon as one frees. Claimed some: more may be due, claim again.
      // Claimed none: nothing is due, poll later.
      if (full) await this.#sleep(this.#pollIntervalMs * 10, true);
      else if (claimed === 0) await this.#sleep(this.#pollIntervalMs, false);
    }
  }

  #sleep(ms: number, untilSlotFree: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#queue.off('next', done);
        this.#abort.signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      if (untilSlotFree) this.#queue.on('next', done);
      this.#abort.signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  async #attempt(blob: ClaimedBlob): Promise<void> {
    // The attempt must end before the lease does; leave a margin for the final update.
    const deadline = AbortSignal.timeout(Math.max(1, Math.floor(this.#leaseMs * 0.8)));
    const signal = AbortSignal.any([this.#abort.signal, deadline]);
    try {
      const key = blobObjectKey(blob.sha256);
      const skipped = await this.#upload(blob, key, signal);
      signal.throwIfAborted();
      const completed = await completeBlob(this.#db, blob.source, blob.id, this.workerId, key);
      if (!completed) {
        this.#log.warn({ id: blob.id }, 'blob lease was lost before it could be marked uploaded');
        return;
      }
      this.#hooks.onUploaded?.(blob, skipped);
      this.#log.info({ source: blob.source, id: blob.id, key, skipped }, 'blob uploaded');
    } catch (error) {
      if (this.#abort.signal.aborted) return; // stop() hands the lease back
      await this.#retryLater(blob, error);
    }
  }

  /** Uploads unless the object is already there; resolves true when the PUT was skipped. */
  async #upload(blob: ClaimedBlob, key: string, signal: AbortSignal): Promise<boolean> {
    const existing = await this.#existing(key, signal);
    // Content-addressed: an object of the right size at this key already holds these bytes.
    if (existing !== undefined && existing.size === blob.size) return true;
    const body = await stagedBody(this.#db, blob);
    try {
      await this.#store.put(key, body, { contentType: blob.contentType, sha256: blob.sha256, signal });
    } catch (error) {
      // Staged bytes that fail mid-stream (damaged, gone, or the database down) fail the put; that is the
      // reason, not the store.
      const cause = (error as Error).cause;
      if (cause instanceof StagedBytesCorruptError || cause instanceof StagedBytesMissingError) throw cause;
      throw asUnavailable(cause) ?? error;
    }
    return false;
  }

  /**
   * The object at `key`, or `undefined` when there is none or the store will not say. Credentials
   * without `s3:ListBucket` are answered 403 instead of 404 for a missing key: that means "cannot tell",
   * and the blob is uploaded, which is harmless (same key, same bytes). A refused PUT still fails.
   */
  async #existing(key: string, signal: AbortSignal): Promise<ObjectInfo | undefined> {
    try {
      return await this.#store.head(key, { signal });
    } catch (error) {
      if (!isObjectStoreError(error) || error.deniedPermission === undefined) throw error;
      if (!this.#headDenied) {
        this.#headDenied = true;
        this.#log.warn(
          { err: error, store: this.#store.description },
          'the object store refuses HEAD (HTTP 403); blobs are uploaded without checking for an identical object',
        );
      }
      return undefined;
    }
  }

  async #retryLater(blob: ClaimedBlob, error: unknown): Promise<void> {
    try {
      const state = await failBlob(this.#db, {
        source: blob.source,
        id: blob.id,
        workerId: this.workerId,
        maxAttempts: this.#maxAttempts,
        delayMs: retryDelayMs(blob.attempts, { baseMs: this.#backoffBaseMs, maxMs: this.#backoffMaxMs }),
        lastError: clientSafeError(error),
      });
      const final = state === 'failed';
      this.#hooks.onAttemptFailed?.(blob, final, error);
      if (final) {
        this.#log.error(
          { err: error, id: blob.id, attempts: blob.attempts },
          'blob failed after its last attempt; its bytes stay staged for blobs:retry',
        );
      } else {
        this.#log.warn(
          { err: error, id: blob.id, attempts: blob.attempts },
          'blob upload failed; will retry',
        );
      }
    } catch (updateError) {
      // The lease runs out by itself and the blob is claimed again; nothing is lost.
      this.#log.error(
        { err: updateError, cause: error, id: blob.id },
        'could not record a failed blob upload; its lease will expire',
      );
    }
  }

  async #shutdown(): Promise<void> {
    this.#abort.abort(new Error('blob worker stopping'));
    this.#wake?.();
    await this.#loop;
    this.#queue.clear();
    await this.#queue.onIdle();
    try {
      const released = await releaseLeases(this.#db, this.workerId);
      this.#log.info({ workerId: this.workerId, released }, 'blob worker stopped');
    } catch (error) {
      // Stopping must not fail because the database is gone; the leases then expire by themselves.
      this.#log.error({ err: error, workerId: this.workerId }, 'blob worker could not hand back its leases');
    }
  }
}
