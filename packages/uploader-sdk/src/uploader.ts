import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '@sluice/contracts';
import { BackoffGate, isWaitAbortedError, sleep } from './backoff.js';
import { Batcher, type BatchLimits } from './batcher.js';
import { type BlobEntry, createBlobAdapter, type QueuedBlob } from './blob-adapter.js';
import { BlobFiles } from './blob-files.js';
import { AdaptiveConcurrency } from './concurrency.js';
import { DeadLetterRequeue, type RequeueResult, recoverRequeue } from './dead-letter-requeue.js';
import { type DeadLetter, type DeadLetterStore, openDeadLetterStore } from './dead-letter-store.js';
import { DeliveryLane } from './delivery-lane.js';
import { openDiskQueue } from './disk-queue/index.js';
import type { DiskQueue } from './disk-queue/types.js';
import { isQueueFullError, UploaderClosedError } from './errors.js';
import { TypedEmitter, type UploaderEvents, type UploaderListener } from './events.js';
import { type FlushOptions, type FlushResult, FlushTracker, flushResult } from './flush-tracker.js';
import { type BlobInput, blobHeader, type RecordInput, serializeRecord } from './item-input.js';
import {
  type ResolvedUploaderOptions,
  resolveOptions,
  type UploaderOptions,
  validateApiKey,
  validateFlushOptions,
} from './options.js';
import { createRecordAdapter, type QueuedRecord } from './record-adapter.js';
import { KeepAlive, timerDelay } from './timers.js';
import { Transport } from './transport.js';
import type { Uploader, UploaderStats } from './uploader-api.js';
import { registerUploaderInternals } from './uploader-internals.js';

/** How soon limits are asked for again when the server could not be asked or gave no answer. */
const LIMITS_RETRY_MS = 60_000;
/** How long `close` lets requests already sent finish before abandoning them. */
const CLOSE_GRACE_MS = 2000;

/**
 * Opens (creating) the uploader's directory and starts delivering what is queued there.
 * @throws {TypeError} for bad options. @throws {QueueLockedError} when another uploader owns the directory.
 */
export async function createUploader(options: UploaderOptions): Promise<Uploader> {
  const resolved = resolveOptions(options);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const recordFlushes = new FlushTracker();
    const records = await openDiskQueue({
      directory: join(resolved.directory, 'records'),
      durability: resolved.durability,
      maxBytes: resolved.maxQueueBytes,
      whenFull: resolved.whenFull,
      onDrop: (entries) => recordFlushes.dropped(entries),
    });
    opened.push(records);
    const blobs = await openDiskQueue({
      directory: join(resolved.directory, 'blobs'),
      durability: resolved.durability,
    });
    opened.push(blobs);
    const deadLetters = await openDeadLetterStore({ directory: join(resolved.directory, 'dead-letters') });
    opened.push(deadLetters);
    const blobFiles = await BlobFiles.open(
      join(resolved.directory, 'blob-data'),
      resolved.maxBlobQueueBytes,
      resolved.durability,
    );
    await recoverRequeue({ records, blobs, files: blobFiles, deadLetters });
    const uploader = new SluiceUploader(resolved, {
      records,
      recordFlushes,
      blobs,
      deadLetters,
      blobFiles,
    });
    await uploader.start();
    return uploader;
  } catch (error) {
    for (const resource of opened.reverse()) await resource.close();
    throw error;
  }
}

/** What the uploader is built on, opened by {@link createUploader}. */
interface UploaderStorage {
  readonly records: DiskQueue;
  /** Flush bookkeeping of `records`, which already reports its drops to it. */
  readonly recordFlushes: FlushTracker;
  readonly blobs: DiskQueue;
  readonly deadLetters: DeadLetterStore;
  readonly blobFiles: BlobFiles;
}

class SluiceUploader implements Uploader {
  private readonly records: DiskQueue;
  private readonly blobs: DiskQueue;
  private readonly deadLetterStore: DeadLetterStore;
  private readonly blobFiles: BlobFiles;
  readonly #recordLane: DeliveryLane<QueuedRecord>;
  readonly #blobLane: DeliveryLane<QueuedBlob>;
  readonly #options: ResolvedUploaderOptions;
  readonly #events = new TypedEmitter<UploaderEvents>();
  readonly #abort = new AbortController();
  readonly #abortSends = new AbortController();
  readonly #transport: Transport;
  readonly #batcher: Batcher;
  readonly #concurrency: AdaptiveConcurrency;
  readonly #authGate: BackoffGate;
  readonly #enqueues = new Set<Promise<unknown>>();
  readonly #keepAlive = new KeepAlive();
  readonly #requeue: DeadLetterRequeue;
  #limits: Limits = DEFAULT_LIMITS;
  #limitsTask: Promise<void> | undefined;
  #limitsStale = false;
  #wakeLimits: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #busy = false;
  #lastRecordSeq: number | undefined;
  #lastBlobSeq: number | undefined;
  // A crash between copying a blob and queueing it leaves a copy nobody refers to; it can only be told
  // apart once the blob queue is empty.
  #orphanSweepDue = true;

  constructor(options: ResolvedUploaderOptions, storage: UploaderStorage) {
    const { records, recordFlushes, blobs, deadLetters, blobFiles } = storage;
    this.#options = options;
    this.records = records;
    this.blobs = blobs;
    this.deadLetterStore = deadLetters;
    this.blobFiles = blobFiles;
    this.#requeue = new DeadLetterRequeue({ records, blobs, files: blobFiles, deadLetters });
    registerUploaderInternals(this, {
      directory: options.directory,
      maxQueueBytes: options.maxQueueBytes,
      whenFull: options.whenFull,
      queuedRecordBytes: () => records.stats().bytes,
      enqueueRecords: (items) => this.#enqueueRecords(items),
      deadLetter: (letters) => deadLetters.add(letters),
    });
    const ackBarrier = (): Promise<void> => this.#requeue.settled();
    // Every pending request, timer and wait listens to the one close signal; their number is bounded by
    // the pending-batch limits, not by a leak.
    setMaxListeners(0, this.#abort.signal, this.#abortSends.signal);
    this.#transport = new Transport({
      endpoint: options.endpoint,
      apiKey: options.apiKey,
      gzipMinBytes: options.gzipMinBytes,
      requestTimeoutMs: options.requestTimeoutMs,
      minUploadBytesPerSecond: options.minUploadBytesPerSecond,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const backoff = {
      baseMs: options.backoffBaseMs,
      maxMs: options.backoffMaxMs,
      capMs: options.maxRetryDelayMs,
    };
    this.#authGate = new BackoffGate(backoff);
    this.#concurrency = new AdaptiveConcurrency({
      min: options.minConcurrency,
      max: options.maxConcurrency,
      latencyTargetMs: options.latencyTargetMs,
    });
    const hooks = {
      hearsDelivered: () => this.#events.listenerCount('delivered') > 0,
      delivered: (event: UploaderEvents['delivered']) => this.#events.emit('delivered', event),
      dead: (event: UploaderEvents['dead']) => {
        options.logger?.warn({ kind: event.kind, count: event.items.length }, 'items dead-lettered');
        this.#events.emit('dead', event);
      },
      retry: (event: UploaderEvents['retry']) => {
        const { kind, delayMs, reason } = event;
        options.logger?.debug({ kind, count: event.ids.length, delayMs, reason }, 'retrying');
        this.#events.emit('retry', event);
      },
      error: (error: Error) => this.#error(error),
      settled: () => this.#checkDrained(),
      tooLarge: () => this.#limitsMayHaveChanged(),
    };
    const common = {
      authGate: this.#authGate,
      authRetryMs: options.authRetryMs,
      backoff,
      hooks,
      signal: this.#abort.signal,
      sendSignal: this.#abortSends.signal,
    };
    this.#batcher = new Batcher(recordFlushes.source(records), this.#batchLimits(), options.maxBatchDelayMs);
    this.#recordLane = new DeliveryLane<QueuedRecord>({
      ...common,
      adapter: createRecordAdapter({
        queue: records,
        batcher: this.#batcher,
        transport: this.#transport,
        deadLetters,
        ackBarrier,
      }),
      queue: records,
      flushes: recordFlushes,
      gate: new BackoffGate(backoff),
      concurrency: this.#concurrency,
      maxPendingBatches: options.maxConcurrency * 2,
    });
    this.#blobLane = new DeliveryLane<QueuedBlob>({
      ...common,
      adapter: createBlobAdapter({
        queue: blobs,
        files: blobFiles,
        transport: this.#transport,
        deadLetters,
        limits: () => this.#limits,
        ackBarrier,
        emptied: async () => {
          if (!this.#orphanSweepDue) return;
          this.#orphanSweepDue = false;
          await blobFiles.sweepOrphans();
        },
      }),
      queue: blobs,
      flushes: new FlushTracker(),
      gate: new BackoffGate(backoff),
      concurrency: options.blobConcurrency,
      maxPendingBatches: options.blobConcurrency * 2,
    });
  }

  async start(): Promise<void> {
    this.#busy = this.records.stats().entries > 0 || this.blobs.stats().entries > 0;
    if (this.blobs.stats().entries === 0) {
      this.#orphanSweepDue = false;
      await this.blobFiles.sweepOrphans();
    }
    this.#recordLane.start();
    this.#blobLane.start();
    this.#limitsTask = this.#refreshLimits();
  }

  on<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  once<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): () => void {
    return this.#events.once(event, listener);
  }

  off<E extends keyof UploaderEvents>(event: E, listener: UploaderListener<E>): void {
    this.#events.off(event, listener);
  }

  /**
   * Enqueues several records with one append (one frame write and fsync for all): each is serialized on its
   * own (a bad one is rejected alone), the rest are durable together or rejected together. For the SDK's
   * own producers (the tailer) through `UploaderInternals`; the outcomes are in `items`' order.
   */
  #enqueueRecords(items: readonly RecordInput[]): Promise<PromiseSettledResult<{ id: string }>[]> {
    if (this.#closing !== undefined) {
      const reason = new UploaderClosedError();
      return Promise.resolve(items.map(() => ({ status: 'rejected', reason })));
    }
    const results: PromiseSettledResult<{ id: string }>[] = [];
    const payloads: Buffer[] = [];
    const serialized: number[] = [];
    let bytes = 0;
    for (const item of items) {
      try {
        const { payload, id } = serializeRecord(item, this.#limits);
        serialized.push(results.length);
        results.push({ status: 'fulfilled', value: { id } });
        payloads.push(payload);
        bytes += payload.byteLength;
      } catch (error) {
        results.push({ status: 'rejected', reason: error });
      }
    }
    if (payloads.length === 0) return Promise.resolve(results);
    // One tracked promise for the append and its fallback: a flush started meanwhile waits for both.
    return this.#trackEnqueue(this.#appendRecords(payloads, bytes, serialized, results));
  }

  async #appendRecords(
    payloads: readonly Buffer[],
    bytes: number,
    serialized: readonly number[],
    results: PromiseSettledResult<{ id: string }>[],
  ): Promise<PromiseSettledResult<{ id: string }>[]> {
    try {
      const seqs = await this.records.appendMany(payloads);
      this.#appended(seqs[seqs.length - 1]!, bytes);
    } catch (error) {
      if (!isQueueFullError(error) || payloads.length === 1) {
        for (const index of serialized) results[index] = { status: 'rejected', reason: error };
        return results;
      }
      // Too large together for the quota or the room left in it: each is taken or refused on its own, as
      // `enqueue` does, so that those that fit go in and the caller is not refused the same group forever.
      const alone = await Promise.allSettled(
        payloads.map((payload) =>
          this.records.append(payload).then((seq) => this.#appended(seq, payload.byteLength)),
        ),
      );
      for (const [position, outcome] of alone.entries()) {
        if (outcome.status === 'rejected') results[serialized[position]!] = outcome;
      }
    }
    return results;
  }

  /** Bookkeeping once records up to `seq` (`bytes` of them) are durably appended. */
  #appended(seq: number, bytes: number): void {
    this.#lastRecordSeq = Math.max(seq, this.#lastRecordSeq ?? seq);
    this.#batcher.appended(bytes);
    this.#busy = true;
  }

  enqueue(item: RecordInput): Promise<{ id: string }> {
    if (this.#closing !== undefined) return Promise.reject(new UploaderClosedError());
    let payload: Buffer;
    let id: string;
    try {
      ({ payload, id } = serializeRecord(item, this.#limits));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#trackEnqueue(
      this.records.append(payload).then((seq) => {
        this.#appended(seq, payload.byteLength);
        return { id };
      }),
    );
  }

  enqueueBlob(blob: BlobInput): Promise<{ id: string }> {
    if (this.#closing !== undefined) return Promise.reject(new UploaderClosedError());
    return this.#trackEnqueue(this.#enqueueBlob(blob));
  }

  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    if (this.#closing !== undefined) throw new UploaderClosedError();
    const { timeoutMs } = validateFlushOptions(options);
    const release = this.#keepAlive.hold();
    const before = this.#settledCounts();
    const deadline = new AbortController();
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => deadline.abort(), timerDelay(timeoutMs));
    let endFlush: (() => void) | undefined;
    try {
      // Only enqueues already started belong to this flush; later ones must not keep it waiting.
      await Promise.allSettled([...this.#enqueues]);
      endFlush = this.#batcher.beginFlush();
      const outcomes = await Promise.all([
        this.#recordLane.flush(this.#lastRecordSeq, deadline.signal),
        this.#blobLane.flush(this.#lastBlobSeq, deadline.signal),
      ]);
      return flushResult(outcomes, before, this.#settledCounts(), this.stats().queued);
    } finally {
      clearTimeout(timer);
      endFlush?.();
      release();
    }
  }

  close(): Promise<void> {
    if (this.#closing === undefined) {
      const release = this.#keepAlive.hold();
      this.#closing = this.#close().finally(release);
    }
    return this.#closing;
  }

  stats(): UploaderStats {
    const records = this.records.stats();
    const blobs = this.blobs.stats();
    const oldest = Math.min(
      records.oldestAppendedAt ?? Number.POSITIVE_INFINITY,
      blobs.oldestAppendedAt ?? Number.POSITIVE_INFINITY,
    );
    const lanes = [this.#recordLane.counters, this.#blobLane.counters];
    const sum = (key: keyof (typeof lanes)[number]): number =>
      lanes.reduce((total, lane) => total + lane[key], 0);
    return {
      queued: records.entries + blobs.entries + sum('unwritten'),
      queuedBytes: records.bytes + this.blobFiles.bytes,
      queuedBlobs: blobs.entries,
      inFlight: sum('inFlight'),
      delivered: sum('delivered'),
      duplicates: sum('duplicates'),
      dead: sum('dead'),
      retries: sum('retries'),
      dropped: records.dropped,
      corruptSkipped: records.corruptSkipped + blobs.corruptSkipped,
      concurrency: this.#concurrency.limit,
      oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0,
      paused: this.#authGate.paused,
      limits: this.#limits,
    };
  }

  deadLetters(options?: { readonly limit?: number; readonly offset?: number }): Promise<DeadLetter[]> {
    return this.deadLetterStore.list(options ?? {});
  }

  requeue(ids?: readonly string[]): Promise<RequeueResult> {
    if (this.#closing !== undefined) return Promise.reject(new UploaderClosedError());
    return this.#trackEnqueue(
      this.#requeue.requeue(ids).then((outcome) => {
        const lastRecord = outcome.recordSeqs.at(-1);
        const lastBlob = outcome.blobSeqs.at(-1);
        if (lastRecord !== undefined) {
          this.#lastRecordSeq = Math.max(lastRecord, this.#lastRecordSeq ?? lastRecord);
          this.#batcher.appended(outcome.recordBytes);
        }
        if (lastBlob !== undefined) this.#lastBlobSeq = Math.max(lastBlob, this.#lastBlobSeq ?? lastBlob);
        if (outcome.result.requeued.length > 0) {
          this.#busy = true;
          this.#options.logger?.info({ ...outcome.result }, 'dead letters requeued');
        }
        return outcome.result;
      }),
    );
  }

  setApiKey(apiKey: string): void {
    validateApiKey(apiKey);
    this.#transport.setApiKey(apiKey);
    this.#authGate.resume();
  }

  async #close(): Promise<void> {
    while (this.#enqueues.size > 0) await Promise.allSettled([...this.#enqueues]);
    this.#abort.abort(new UploaderClosedError());
    // Requests on the wire get a short grace to finish, so their acknowledgements are kept rather than
    // resent as duplicates after the next start.
    const grace = setTimeout(() => this.#abortSends.abort(new UploaderClosedError()), CLOSE_GRACE_MS);
    grace.unref();
    try {
      await Promise.all([this.#recordLane.stop(), this.#blobLane.stop(), this.#limitsTask]);
    } finally {
      clearTimeout(grace);
    }
    await this.records.close();
    await this.blobs.close();
    await this.deadLetterStore.close();
  }

  #settledCounts(): { delivered: number; dead: number } {
    const lanes = [this.#recordLane.counters, this.#blobLane.counters];
    return {
      delivered: lanes.reduce((total, lane) => total + lane.delivered, 0),
      dead: lanes.reduce((total, lane) => total + lane.dead, 0),
    };
  }

  #trackEnqueue<T>(promise: Promise<T>): Promise<T> {
    this.#enqueues.add(promise);
    const forget = (): void => {
      this.#enqueues.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  async #enqueueBlob(blob: BlobInput): Promise<{ id: string }> {
    const header = blobHeader(blob, this.#limits);
    const copy = await this.blobFiles.copy(header.id, blob.body, this.#limits.maxBlobBytes);
    const entry: BlobEntry = {
      manifest: { ...header, size: copy.size, sha256: copy.sha256 },
      file: copy.file,
    };
    try {
      const seq = await this.blobs.append(Buffer.from(JSON.stringify(entry)));
      this.#lastBlobSeq = Math.max(seq, this.#lastBlobSeq ?? seq);
    } catch (error) {
      await this.blobFiles.remove(copy.file, copy.size);
      throw error;
    }
    this.#busy = true;
    return { id: header.id };
  }

  #batchLimits(): BatchLimits {
    return {
      maxItems: Math.min(this.#options.maxBatchItems, this.#limits.maxBatchItems),
      maxBytes: Math.min(this.#options.maxBatchBytes, this.#limits.maxBatchBytes),
    };
  }

  /**
   * Asks for the server's limits at start, then every `limitsRefreshMs` (sooner while it cannot be asked),
   * and at once when a request was refused as too large. The timer is unref'd like every other.
   */
  async #refreshLimits(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      this.#limitsStale = false;
      const limits = await this.#transport.fetchLimits(signal).catch((error: unknown) => {
        if (!signal.aborted) throw error;
        return undefined;
      });
      if (limits !== undefined) {
        this.#limits = limits;
        this.#batcher.setLimits(this.#batchLimits());
      }
      if (this.#limitsStale) continue;
      const wake = new AbortController();
      this.#wakeLimits = () => wake.abort();
      const waitMs =
        limits === undefined
          ? Math.min(LIMITS_RETRY_MS, this.#options.limitsRefreshMs)
          : this.#options.limitsRefreshMs;
      try {
        await sleep(waitMs, AbortSignal.any([signal, wake.signal]));
      } catch (error) {
        if (!isWaitAbortedError(error)) throw error;
      } finally {
        this.#wakeLimits = undefined;
      }
    }
  }

  /** A request was refused as too large: the server's limits may have changed. */
  #limitsMayHaveChanged(): void {
    this.#limitsStale = true;
    this.#wakeLimits?.();
  }

  #error(error: Error): void {
    this.#options.logger?.error({ err: error }, error.message);
    this.#events.emit('error', error);
  }

  #checkDrained(): void {
    if (!this.#busy || !this.#recordLane.idle || !this.#blobLane.idle) return;
    if (this.records.stats().entries > 0 || this.blobs.stats().entries > 0) return;
    this.#busy = false;
    this.#events.emit('drained', undefined);
  }
}
