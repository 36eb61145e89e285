import { type FileHandle, mkdir, open, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToCallers } from 'node:timers/promises';
import { syncDirectory, syncFileData } from '../durable-file.js';
import { QueueFullError, UploaderClosedError } from '../errors.js';
import { loadAckLedger, saveAckLedger } from './ack-ledger.js';
import type { AckSet } from './ack-set.js';
import { type DirectoryLock, lockDirectory } from './directory-lock.js';
import { encodeFrame, frameBytes, MAX_FRAME_PAYLOAD_BYTES } from './frame.js';
import { QueueCursor } from './queue-cursor.js';
import { type RecoveredSegments, recoverSegments, removeSegmentFiles } from './recover-segments.js';
import type { Segment } from './segment.js';
import { segmentFileName } from './segment-files.js';
import type {
  DiskQueue,
  DiskQueueOptions,
  DiskQueueStats,
  Durability,
  QueueEntry,
  WhenFull,
} from './types.js';

/** Defaults of `DiskQueueOptions`. */
export const DISK_QUEUE_DEFAULTS = {
  durability: 'fsync',
  maxBytes: 268_435_456,
  whenFull: 'reject',
  segmentBytes: 8_388_608,
} as const satisfies Partial<DiskQueueOptions>;

interface ResolvedOptions {
  readonly directory: string;
  readonly durability: Durability;
  readonly maxBytes: number;
  readonly whenFull: WhenFull;
  readonly segmentBytes: number;
  readonly onDrop: DiskQueueOptions['onDrop'];
}

interface AppendRequest {
  readonly payloads: readonly Uint8Array[];
  readonly bytes: number;
  readonly resolve: (seqs: number[]) => void;
  readonly reject: (error: unknown) => void;
}

interface InFlightEntry {
  readonly bytes: number;
  readonly appendedAt: number;
  readonly segment: Segment;
}

interface ActiveSegment {
  readonly segment: Segment;
  readonly handle: FileHandle;
  /** Bytes written to the file so far (readers see only `segment.size` of them). */
  written: number;
}

function resolveOptions(options: DiskQueueOptions): ResolvedOptions {
  const resolved = { ...DISK_QUEUE_DEFAULTS, ...options };
  const { directory, durability, maxBytes, whenFull, segmentBytes, onDrop } = resolved;
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(`Expected \`directory\` to be a non-empty path, got ${JSON.stringify(directory)}`);
  }
  if (durability !== 'fsync' && durability !== 'os') {
    throw new TypeError(`Expected \`durability\` to be 'fsync' or 'os', got ${JSON.stringify(durability)}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`Expected \`maxBytes\` to be a positive integer, got ${String(maxBytes)}`);
  }
  if (whenFull !== 'reject' && whenFull !== 'drop-oldest') {
    throw new TypeError(
      `Expected \`whenFull\` to be 'reject' or 'drop-oldest', got ${JSON.stringify(whenFull)}`,
    );
  }
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
    throw new TypeError(`Expected \`segmentBytes\` to be a positive integer, got ${String(segmentBytes)}`);
  }
  if (onDrop !== undefined && typeof onDrop !== 'function') {
    throw new TypeError(`Expected \`onDrop\` to be a function, got ${typeof onDrop}`);
  }
  return { directory, durability, maxBytes, whenFull, segmentBytes, onDrop };
}

/**
 * Opens (creating if needed) the durable queue in `options.directory`, taking its lock, and replays
 * everything not yet acknowledged. Damaged or torn records are skipped and counted, never fatal. Throws
 * `QueueLockedError` when another process, or another open queue in this one, owns the directory.
 */
export async function openDiskQueue(options: DiskQueueOptions): Promise<DiskQueue> {
  const resolved = resolveOptions(options);
  await mkdir(resolved.directory, { recursive: true });
  const directory = await realpath(resolved.directory);
  const lock = await lockDirectory(directory);
  try {
    const { acks, unreadable } = await loadAckLedger(directory);
    const recovered = await recoverSegments(directory, acks);
    if (recovered.acksChanged || unreadable || recovered.obsolete.length > 0) {
      await saveAckLedger(directory, acks);
    }
    await removeSegmentFiles(recovered.obsolete);
    return new FileDiskQueue({ ...resolved, directory }, lock, acks, recovered);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

class FileDiskQueue implements DiskQueue {
  readonly #options: ResolvedOptions;
  readonly #lock: DirectoryLock;
  readonly #acks: AckSet;
  readonly #segments: Segment[];
  readonly #readCursor: QueueCursor;
  readonly #dropCursor: QueueCursor;
  readonly #inFlight = new Map<number, InFlightEntry>();
  /** Seqs acknowledged before a reader reached them; their bytes are released when one passes them. */
  readonly #ackedUnread = new Set<number>();
  readonly #waiters = new Set<() => void>();

  #active: ActiveSegment | undefined;
  /** Next seq to assign. */
  #nextSeq: number;
  /** Every seq below this is durable (or failed). */
  #committedSeq: number;
  /** Every seq below this was handed out or skipped by `read`. */
  #readFrontier = 0;
  #entries: number;
  #bytes: number;
  #unread: number;
  #corruptSkipped: number;
  #dropped = 0;
  #unreadHeadAppendedAt: number | undefined;
  /** Commits made visible so far. */
  #commits = 0;

  #pending: AppendRequest[] = [];
  /** Payload bytes of appends accepted but not yet committed. */
  #reservedBytes = 0;
  #writing: Promise<void> | undefined;
  #readLock: Promise<void> = Promise.resolve();
  #ledgerRequested = 0;
  #ledgerSaved = 0;
  #ledgerSaving: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedOptions, lock: DirectoryLock, acks: AckSet, recovered: RecoveredSegments) {
    this.#options = options;
    this.#lock = lock;
    this.#acks = acks;
    this.#segments = recovered.segments;
    this.#readCursor = new QueueCursor(() => this.#segments);
    this.#dropCursor = new QueueCursor(() => this.#segments);
    this.#nextSeq = Math.max(recovered.highestSeq, acks.highest) + 1;
    this.#committedSeq = this.#nextSeq;
    this.#entries = recovered.entries;
    this.#bytes = recovered.bytes;
    this.#unread = recovered.entries;
    this.#corruptSkipped = recovered.corruptSkipped;
    this.#unreadHeadAppendedAt = recovered.oldestAppendedAt;
  }

  async append(payload: Uint8Array): Promise<number> {
    const [seq] = await this.appendMany([payload]);
    return seq!;
  }

  appendMany(payloads: readonly Uint8Array[]): Promise<number[]> {
    if (this.#closed) return Promise.reject(new UploaderClosedError());
    if (payloads.length === 0) return Promise.resolve([]);
    let bytes = 0;
    for (const payload of payloads) {
      if (!(payload instanceof Uint8Array)) {
        return Promise.reject(new TypeError(`Expected a Uint8Array payload, got ${typeof payload}`));
      }
      if (payload.byteLength > MAX_FRAME_PAYLOAD_BYTES) {
        return Promise.reject(new QueueFullError(this.#options.maxBytes, payload.byteLength));
      }
      bytes += payload.byteLength;
    }
    const { maxBytes, whenFull } = this.#options;
    if (bytes > maxBytes || (whenFull === 'reject' && this.#bytes + this.#reservedBytes + bytes > maxBytes)) {
      return Promise.reject(new QueueFullError(maxBytes, bytes));
    }
    return new Promise<number[]>((resolve, reject) => {
      this.#pending.push({ payloads: [...payloads], bytes, resolve, reject });
      this.#reservedBytes += bytes;
      this.#writing ??= this.#writeLoop();
    });
  }

  async read(maxEntries: number, maxBytes: number): Promise<QueueEntry[]> {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`Expected \`maxEntries\` to be a positive integer, got ${String(maxEntries)}`);
    }
    if (this.#closed) throw new UploaderClosedError();
    return await this.#withReadLock(async () => {
      if (this.#closed) throw new UploaderClosedError();
      const entries: QueueEntry[] = [];
      let bytes = 0;
      let emptied = false;
      while (entries.length < maxEntries) {
        const commits = this.#commits;
        const next = await this.#readCursor.peek();
        if (next === undefined) {
          // Everything visible was passed; entries still counted as unread sat in records damaged after
          // they were written, and must not keep waiters spinning.
          if (commits === this.#commits) this.#unread = 0;
          break;
        }
        const { segment, event } = next;
        if (event.kind === 'corrupt') {
          if (event.offset >= segment.scannedBytes) this.#corruptSkipped += 1;
          this.#readCursor.advance(next);
          continue;
        }
        const { seq, payload, appendedAt } = event.frame;
        if (seq < this.#readFrontier || this.#acks.has(seq)) {
          if (this.#ackedUnread.delete(seq)) {
            this.#release(segment, payload.byteLength);
            emptied ||= segment.live === 0;
          }
          this.#readFrontier = Math.max(this.#readFrontier, seq + 1);
          this.#readCursor.advance(next);
          continue;
        }
        if (entries.length > 0 && bytes + payload.byteLength > maxBytes) break;
        this.#readCursor.advance(next);
        this.#readFrontier = seq + 1;
        this.#inFlight.set(seq, { bytes: payload.byteLength, appendedAt, segment });
        this.#unread -= 1;
        entries.push({ seq, payload });
        bytes += payload.byteLength;
      }
      await this.#refreshUnreadHead();
      // A segment emptied by passing entries acknowledged unread is deleted by the next ledger save.
      if (emptied) await this.#saveLedger();
      return entries;
    });
  }

  waitForUnread(signal?: AbortSignal): Promise<void> {
    if (this.#unread > 0 || this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async scan(visit: (entry: QueueEntry) => void): Promise<void> {
    if (this.#closed) throw new UploaderClosedError();
    const cursor = new QueueCursor(() => this.#segments);
    try {
      for (let next = await cursor.peek(); next !== undefined; next = await cursor.peek()) {
        cursor.advance(next);
        if (next.event.kind !== 'frame') continue;
        const { seq, payload } = next.event.frame;
        if (!this.#acks.has(seq)) visit({ seq, payload });
      }
    } finally {
      await cursor.close();
    }
  }

  async ack(seqs: readonly number[]): Promise<void> {
    if (this.#closed) throw new UploaderClosedError();
    let changed = false;
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq) || seq < 1 || seq >= this.#committedSeq || this.#acks.has(seq)) continue;
      const entry = this.#inFlight.get(seq);
      if (entry !== undefined) {
        this.#inFlight.delete(seq);
        this.#acks.add(seq);
        this.#entries -= 1;
        this.#release(entry.segment, entry.bytes);
        changed = true;
      } else if (seq >= this.#readFrontier) {
        this.#acks.add(seq);
        this.#ackedUnread.add(seq);
        this.#entries -= 1;
        this.#unread -= 1;
        changed = true;
      }
      // Otherwise a reader passed it without handing it out: it was lost to damage, nothing to record.
    }
    // Acks are taken in memory before the ledger is written; when a write failed, acking the same seqs
    // again must write it again rather than find nothing new and report success.
    if (changed || this.#ledgerSaved < this.#ledgerRequested) await this.#saveLedger();
  }

  stats(): DiskQueueStats {
    const oldestInFlight = this.#inFlight.values().next();
    return {
      entries: this.#entries,
      bytes: this.#bytes,
      unread: this.#unread,
      corruptSkipped: this.#corruptSkipped,
      dropped: this.#dropped,
      oldestAppendedAt: oldestInFlight.done
        ? this.#unread > 0
          ? this.#unreadHeadAppendedAt
          : undefined
        : oldestInFlight.value.appendedAt,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#notifyWaiters();
    while (this.#writing !== undefined) await this.#writing;
    // A failed ledger save already rejected the `ack` that started it; here it only has to be over.
    while (this.#ledgerSaving !== undefined) await this.#ledgerSaving.catch(() => undefined);
    await this.#withReadLock(async () => {
      await this.#readCursor.close();
      await this.#dropCursor.close();
    });
    const active = this.#active;
    this.#active = undefined;
    try {
      await active?.handle.close();
    } finally {
      await this.#lock.release();
    }
  }

  /** An acknowledged or dropped entry stops counting against the quota and its segment. */
  #release(segment: Segment, bytes: number): void {
    this.#bytes -= bytes;
    segment.live -= 1;
  }

  #notifyWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  async #withReadLock<T>(action: () => Promise<T>): Promise<T> {
    const previous = this.#readLock;
    let unlock!: () => void;
    this.#readLock = new Promise((resolve) => {
      unlock = resolve;
    });
    await previous;
    try {
      return await action();
    } finally {
      unlock();
    }
  }

  /** Remembers when the next unread entry was appended, for `stats().oldestAppendedAt`. Under the read lock. */
  async #refreshUnreadHead(): Promise<void> {
    if (this.#unread === 0) {
      this.#unreadHeadAppendedAt = undefined;
      return;
    }
    const next = await this.#readCursor.peek();
    if (next?.event.kind === 'frame') this.#unreadHeadAppendedAt = next.event.frame.appendedAt;
  }

  /** Commits pending appends until none are left; never rejects (failures go to the appends). */
  async #writeLoop(): Promise<void> {
    try {
      await this.#drainPending();
    } finally {
      this.#writing = undefined;
      // Appends made while the last commit's callers resumed found `#writing` still set.
      if (this.#pending.length > 0) this.#writing = this.#writeLoop();
    }
  }

  async #drainPending(): Promise<void> {
    // Before each commit, let every caller resumed by the previous one append again: fuller groups,
    // fewer fsyncs. (The first yield also lets `#writing` be assigned before the loop can clear it.)
    for (;;) {
      await yieldToCallers();
      if (this.#pending.length === 0) return;
      const batch = this.#takeBatch();
      const bytes = batch.reduce((sum, request) => sum + request.bytes, 0);
      try {
        const seqs = await this.#commit(batch, bytes);
        for (const [index, request] of batch.entries()) request.resolve(seqs[index]!);
        this.#notifyWaiters();
      } catch (error) {
        for (const request of batch) request.reject(error);
      } finally {
        this.#reservedBytes -= bytes;
      }
    }
  }

  /** Pending appends for one commit; under `drop-oldest` no more than fits the quota at once. */
  #takeBatch(): AppendRequest[] {
    if (this.#options.whenFull === 'reject') return this.#pending.splice(0);
    let bytes = 0;
    let count = 0;
    for (const request of this.#pending) {
      if (count > 0 && bytes + request.bytes > this.#options.maxBytes) break;
      bytes += request.bytes;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }

  /** Writes a batch of appends as one write (per segment) and one fsync; returns each request's seqs. */
  async #commit(batch: readonly AppendRequest[], batchBytes: number): Promise<number[][]> {
    if (this.#options.whenFull === 'drop-oldest') {
      const excess = this.#bytes + batchBytes - this.#options.maxBytes;
      if (excess > 0) await this.#dropOldest(excess);
    }
    const appendedAt = Date.now();
    const sealed: ActiveSegment[] = [];
    const written: { seq: number; bytes: number; segment: Segment }[] = [];
    const seqs: number[][] = [];
    let active = await this.#activeSegment();
    try {
      let frames: { seq: number; payload: Uint8Array }[] = [];
      let planned = active.written;
      for (const request of batch) {
        const requestSeqs: number[] = [];
        for (const payload of request.payloads) {
          const size = frameBytes(payload.byteLength);
          if (planned > 0 && planned + size > this.#options.segmentBytes) {
            await this.#writeFrames(active, frames, appendedAt);
            frames = [];
            sealed.push(await this.#sealActive());
            active = await this.#activeSegment();
            planned = 0;
          }
          const seq = this.#nextSeq;
          this.#nextSeq += 1;
          frames.push({ seq, payload });
          written.push({ seq, bytes: payload.byteLength, segment: active.segment });
          requestSeqs.push(seq);
          planned += size;
        }
        seqs.push(requestSeqs);
      }
      await this.#writeFrames(active, frames, appendedAt);
      await syncFileData(active.handle, this.#options.durability);
    } catch (error) {
      // Seqs handed to the failed frames are never reused: some may have reached the disk.
      this.#committedSeq = this.#nextSeq;
      for (const { segment } of sealed) segment.sealed = true;
      await this.#abandonActive(error);
      throw error;
    }
    this.#committedSeq = this.#nextSeq;
    for (const done of sealed) {
      done.segment.size = done.written;
      done.segment.sealed = true;
    }
    active.segment.size = active.written;
    if (this.#unread === 0) this.#unreadHeadAppendedAt = appendedAt;
    for (const entry of written) entry.segment.live += 1;
    this.#entries += written.length;
    this.#unread += written.length;
    this.#commits += 1;
    this.#bytes += batchBytes;
    return seqs;
  }

  async #activeSegment(): Promise<ActiveSegment> {
    if (this.#active !== undefined) return this.#active;
    const firstSeq = this.#nextSeq;
    const path = join(this.#options.directory, segmentFileName(firstSeq));
    const handle = await open(path, 'wx');
    if (this.#options.durability === 'fsync') {
      try {
        await syncDirectory(this.#options.directory);
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    const segment: Segment = { firstSeq, path, size: 0, sealed: false, live: 0, scannedBytes: 0 };
    this.#segments.push(segment);
    this.#active = { segment, handle, written: 0 };
    return this.#active;
  }

  async #writeFrames(
    active: ActiveSegment,
    frames: readonly { seq: number; payload: Uint8Array }[],
    appendedAt: number,
  ): Promise<void> {
    if (frames.length === 0) return;
    const buffer = Buffer.allocUnsafe(
      frames.reduce((sum, frame) => sum + frameBytes(frame.payload.byteLength), 0),
    );
    let offset = 0;
    for (const frame of frames) offset = encodeFrame(buffer, offset, frame.seq, appendedAt, frame.payload);
    let done = 0;
    while (done < buffer.length) {
      const { bytesWritten } = await active.handle.write(
        buffer,
        done,
        buffer.length - done,
        active.written + done,
      );
      done += bytesWritten;
    }
    active.written += buffer.length;
  }

  /** Makes the active segment durable and closes it; it becomes readable to its end once the commit is done. */
  async #sealActive(): Promise<ActiveSegment> {
    const active = this.#active!;
    await syncFileData(active.handle, this.#options.durability);
    this.#active = undefined;
    await active.handle.close();
    return active;
  }

  /**
   * After a failed write the active segment may end in a partial frame, so it is sealed at its last good
   * size and later appends go to a new segment.
   */
  async #abandonActive(cause: unknown): Promise<void> {
    const active = this.#active;
    if (active === undefined) return;
    this.#active = undefined;
    active.segment.sealed = true;
    try {
      await active.handle.close();
    } catch (closeError) {
      throw new AggregateError(
        [cause, closeError],
        'writing to the queue failed, and so did closing the segment',
      );
    }
  }

  /**
   * Drops the oldest un-acknowledged entries until `excess` payload bytes are freed (or nothing is left),
   * records them as acknowledged, and reports them through `onDrop` before their space is reused.
   */
  async #dropOldest(excess: number): Promise<void> {
    const dropped: QueueEntry[] = [];
    let freed = 0;
    while (freed < excess) {
      const next = await this.#dropCursor.peek();
      if (next === undefined) break;
      this.#dropCursor.advance(next);
      if (next.event.kind === 'corrupt') continue;
      const { segment } = next;
      const { seq, payload } = next.event.frame;
      if (this.#acks.has(seq)) {
        if (this.#ackedUnread.delete(seq)) this.#release(segment, payload.byteLength);
        continue;
      }
      if (this.#inFlight.delete(seq)) {
        // Handed out already: if it is delivered anyway, its ack is a no-op.
      } else if (seq >= this.#readFrontier) {
        this.#unread -= 1;
      } else {
        continue;
      }
      this.#acks.add(seq);
      this.#entries -= 1;
      this.#release(segment, payload.byteLength);
      this.#dropped += 1;
      dropped.push({ seq, payload });
      freed += payload.byteLength;
    }
    if (dropped.length === 0) return;
    await this.#saveLedger();
    await this.#withReadLock(() => this.#refreshUnreadHead());
    await this.#options.onDrop?.(dropped);
  }

  /**
   * Durably writes the ack ledger, coalescing concurrent callers into as few writes as possible, then
   * deletes segments whose entries were all acknowledged before that write.
   */
  async #saveLedger(): Promise<void> {
    this.#ledgerRequested += 1;
    const target = this.#ledgerRequested;
    while (this.#ledgerSaved < target) {
      if (this.#ledgerSaving !== undefined) {
        await this.#ledgerSaving;
        continue;
      }
      const covered = this.#ledgerRequested;
      const done = this.#segments.filter((segment) => segment.sealed && segment.live === 0);
      const oldest = this.#segments.find((segment) => !done.includes(segment));
      // Everything below the oldest remaining segment is acknowledged, or was lost and already counted.
      this.#acks.raiseWatermark((oldest?.firstSeq ?? this.#committedSeq) - 1);
      this.#ledgerSaving = (async () => {
        await saveAckLedger(this.#options.directory, this.#acks);
        this.#ledgerSaved = Math.max(this.#ledgerSaved, covered);
        await this.#deleteSegments(done);
      })().finally(() => {
        this.#ledgerSaving = undefined;
      });
      await this.#ledgerSaving;
    }
  }

  async #deleteSegments(done: readonly Segment[]): Promise<void> {
    for (const segment of done) {
      const index = this.#segments.indexOf(segment);
      if (index < 0) continue;
      this.#segments.splice(index, 1);
      try {
        await unlink(segment.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
}
