import { setImmediate as yieldToCallers } from 'node:timers/promises';
import { QueueFullError, UploaderClosedError } from '../errors.js';
import type { OldestDropper } from './drop-oldest.js';
import { encodeFrames, type FrameInput, frameBytes, MAX_FRAME_PAYLOAD_BYTES } from './frame.js';
import type { ResolvedOptions } from './queue-options.js';
import type { QueueState } from './queue-state.js';
import type { QueueReader } from './reader.js';
import { SegmentFile } from './segment-io.js';

interface AppendRequest {
  readonly payloads: readonly Uint8Array[];
  readonly bytes: number;
  readonly resolve: (seqs: number[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The write side of one open queue: checks appends against the byte quota, and group-commits them: every
 * append waiting when a commit starts goes into one write per segment and one fsync, and resolves once
 * that is durable. Rolls over to a new segment past `segmentBytes`; under `drop-oldest` makes room first.
 */
export class QueueWriter {
  readonly #options: ResolvedOptions;
  readonly #state: QueueState;
  readonly #reader: QueueReader;
  readonly #dropper: OldestDropper;
  #active: SegmentFile | undefined;
  #pending: AppendRequest[] = [];
  /** Payload bytes of appends accepted but not yet committed. */
  #reservedBytes = 0;
  #writing: Promise<void> | undefined;

  constructor(options: ResolvedOptions, state: QueueState, reader: QueueReader, dropper: OldestDropper) {
    this.#options = options;
    this.#state = state;
    this.#reader = reader;
    this.#dropper = dropper;
  }

  /** `DiskQueue.appendMany`. */
  appendMany(payloads: readonly Uint8Array[]): Promise<number[]> {
    if (this.#state.closed) return Promise.reject(new UploaderClosedError());
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
    if (
      bytes > maxBytes ||
      (whenFull === 'reject' && this.#state.bytes + this.#reservedBytes + bytes > maxBytes)
    ) {
      return Promise.reject(new QueueFullError(maxBytes, bytes));
    }
    return new Promise<number[]>((resolve, reject) => {
      this.#pending.push({ payloads: [...payloads], bytes, resolve, reject });
      this.#reservedBytes += bytes;
      this.#writing ??= this.#writeLoop();
    });
  }

  /** Resolves once every accepted append is committed or failed. */
  async settle(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /** Closes the segment file being written, if any. Call after `settle`. */
  async closeSegment(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    await active?.close();
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
        this.#reader.notifyWaiters();
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
    const state = this.#state;
    if (this.#options.whenFull === 'drop-oldest') {
      const excess = state.bytes + batchBytes - this.#options.maxBytes;
      if (excess > 0) await this.#dropper.drop(excess);
    }
    const appendedAt = Date.now();
    const firstSeq = state.nextSeq;
    const sealed: SegmentFile[] = [];
    const written: { seq: number; bytes: number; segment: SegmentFile['segment'] }[] = [];
    const seqs: number[][] = [];
    let active = await this.#activeSegment();
    try {
      let frames: FrameInput[] = [];
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
          const seq = state.nextSeq;
          state.nextSeq += 1;
          frames.push({ seq, payload });
          written.push({ seq, bytes: payload.byteLength, segment: active.segment });
          requestSeqs.push(seq);
          planned += size;
        }
        seqs.push(requestSeqs);
      }
      await this.#writeFrames(active, frames, appendedAt);
      await active.makeDurable();
    } catch (error) {
      // Seqs handed to the failed frames are never reused, and are recorded as acknowledged: should
      // removing the frames fail, they are still never delivered once the ledger is next written.
      state.committedSeq = state.nextSeq;
      if (state.nextSeq > firstSeq) state.acks.addRange(firstSeq, state.nextSeq - 1);
      const touched = this.#active === undefined ? sealed : [...sealed, this.#active];
      this.#active = undefined;
      await discardUncommitted(touched, error);
      throw error;
    }
    state.committedSeq = state.nextSeq;
    for (const done of sealed) {
      done.segment.size = done.written;
      done.segment.sealed = true;
    }
    active.segment.size = active.written;
    if (state.unread === 0) state.unreadHeadAppendedAt = appendedAt;
    for (const entry of written) entry.segment.live += 1;
    state.entries += written.length;
    state.unread += written.length;
    state.commits += 1;
    state.bytes += batchBytes;
    // Their frames are durable and readers open the files themselves; a failed close still frees the handle.
    for (const done of sealed) await done.close().catch(() => undefined);
    return seqs;
  }

  async #activeSegment(): Promise<SegmentFile> {
    if (this.#active !== undefined) return this.#active;
    const { directory, durability } = this.#options;
    const active = await SegmentFile.create(directory, this.#state.nextSeq, durability);
    this.#state.segments.push(active.segment);
    this.#active = active;
    return active;
  }

  async #writeFrames(active: SegmentFile, frames: readonly FrameInput[], appendedAt: number): Promise<void> {
    if (frames.length === 0) return;
    await active.write(encodeFrames(frames, appendedAt));
  }

  /**
   * Makes the active segment durable and moves on from it; it becomes readable to its end once the commit
   * is done. Its file stays open until then, so that a commit that fails later can cut its frames out.
   */
  async #sealActive(): Promise<SegmentFile> {
    const active = this.#active!;
    await active.makeDurable();
    this.#active = undefined;
    return active;
  }
}

/**
 * After a failed commit, removes its frames from every segment it wrote to, so that a restart finds none of
 * the appends it rejects: each file is cut back to its last committed size (and that is made durable) and
 * closed. The segments stay sealed at that size and later appends go to a new segment (a file that could
 * not be cut back still ends in frames of the failed commit). Throws an `AggregateError` of `cause` and
 * what failed here, if anything did.
 */
async function discardUncommitted(files: readonly SegmentFile[], cause: unknown): Promise<void> {
  const errors: unknown[] = [];
  for (const file of files) {
    file.segment.sealed = true;
    await file.truncate(file.segment.size).catch((error: unknown) => errors.push(error));
    await file.close().catch((error: unknown) => errors.push(error));
  }
  if (errors.length > 0) {
    throw new AggregateError(
      [cause, ...errors],
      'writing to the queue failed, and so did removing what it had written',
    );
  }
}
