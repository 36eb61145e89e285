import type { FileHandle } from 'node:fs/promises';
import {
  type DecodedFrame,
  decodeFrameAt,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC_BYTES,
  frameLengthAt,
} from './frame.js';

/** A whole, checksum-verified frame, or a damaged byte range a reader skipped over. */
export type SegmentEvent =
  | { readonly kind: 'frame'; readonly offset: number; readonly end: number; readonly frame: DecodedFrame }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly end: number };

const DEFAULT_BUFFER_BYTES = 64 * 1024;

/**
 * Streams frames out of one segment file through a bounded buffer (it grows only to hold one large
 * frame). After a damaged frame it resynchronises on the next magic whose frame validates, so damage
 * costs only the damaged frames. Bytes at or past `limit` are never read, because the writer may still be
 * writing them.
 *
 * A frame's payload is a view of the buffer it was read into, not a copy: a buffer is never written again
 * once a frame was handed out of it (a refill reads into a new one), so a payload stays valid for as long
 * as its entry is held, and reading costs one allocation per buffer rather than one per entry.
 */
export class SegmentReader {
  readonly #handle: FileHandle;
  #buffer: Buffer;
  #bufferStart = 0;
  #bufferLength = 0;
  /** A frame was decoded out of `#buffer`: its bytes must stay as they are. */
  #handedOut = false;
  #position: number;

  constructor(handle: FileHandle, position = 0) {
    this.#handle = handle;
    this.#position = position;
    // The first read allocates, sized by what there is to read.
    this.#buffer = Buffer.alloc(0);
  }

  /** File offset of the next event. */
  get position(): number {
    return this.#position;
  }

  /**
   * `peek` without waiting, when it needs no read: the event at the current position if its whole frame is
   * buffered and valid, `null` at `limit`, `undefined` when only `peek` can tell (bytes to read, damage).
   * Reading a queue is mostly this: one promise per buffer refill instead of several per entry.
   */
  peekBuffered(limit: number): SegmentEvent | null | undefined {
    const offset = this.#position;
    if (offset >= limit) return null;
    const start = offset - this.#bufferStart;
    if (start < 0 || start + FRAME_HEADER_BYTES > this.#bufferLength) return undefined;
    const length = frameLengthAt(this.#buffer, start);
    if (length === undefined) return undefined;
    const total = FRAME_HEADER_BYTES + length;
    if (offset + total > limit || start + total > this.#bufferLength) return undefined;
    const frame = decodeFrameAt(this.#buffer, start, length);
    if (frame === undefined) return undefined;
    this.#handedOut = true;
    return { kind: 'frame', offset, end: offset + total, frame };
  }

  /** The event at the current position within `[position, limit)`, without consuming it. */
  async peek(limit: number): Promise<SegmentEvent | undefined> {
    const buffered = this.peekBuffered(limit);
    if (buffered !== undefined) return buffered ?? undefined;
    const offset = this.#position;
    if ((await this.#fill(offset, FRAME_HEADER_BYTES, limit)) === FRAME_HEADER_BYTES) {
      const length = frameLengthAt(this.#buffer, offset - this.#bufferStart);
      if (length !== undefined && offset + FRAME_HEADER_BYTES + length <= limit) {
        const total = FRAME_HEADER_BYTES + length;
        if ((await this.#fill(offset, total, limit)) === total) {
          const frame = decodeFrameAt(this.#buffer, offset - this.#bufferStart, length);
          if (frame !== undefined) {
            this.#handedOut = true;
            return { kind: 'frame', offset, end: offset + total, frame };
          }
        }
      }
    }
    return { kind: 'corrupt', offset, end: await this.#findMagic(offset + 1, limit) };
  }

  /** Consumes `event` (as returned by `peek`). */
  advance(event: SegmentEvent): void {
    this.#position = event.end;
  }

  /** `peek` and `advance` in one. */
  async next(limit: number): Promise<SegmentEvent | undefined> {
    const event = await this.peek(limit);
    if (event !== undefined) this.advance(event);
    return event;
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    await this.#handle.close();
  }

  /** Offset of the next magic at or after `from`, or `limit` when there is none before it. */
  async #findMagic(from: number, limit: number): Promise<number> {
    let start = from;
    while (start + FRAME_MAGIC_BYTES.length <= limit) {
      const available = await this.#fill(start, Math.min(DEFAULT_BUFFER_BYTES, limit - start), limit);
      if (available < FRAME_MAGIC_BYTES.length) return limit;
      const window = this.#buffer.subarray(start - this.#bufferStart, start - this.#bufferStart + available);
      const index = window.indexOf(FRAME_MAGIC_BYTES);
      if (index >= 0) return start + index;
      // The magic may straddle the window's end, so the next window overlaps by three bytes.
      start += available - (FRAME_MAGIC_BYTES.length - 1);
    }
    return limit;
  }

  /**
   * Makes `[from, from + count)` available in the buffer, reading no byte at or past `limit`; returns how
   * many of those bytes are available (fewer only when the file ends first).
   */
  async #fill(from: number, count: number, limit: number): Promise<number> {
    const bufferEnd = this.#bufferStart + this.#bufferLength;
    if (from < this.#bufferStart || from > bufferEnd) {
      this.#bufferStart = from;
      this.#bufferLength = 0;
    }
    let available = this.#bufferStart + this.#bufferLength - from;
    if (available >= count) return count;
    if (
      from > this.#bufferStart ||
      this.#handedOut ||
      count > this.#buffer.length ||
      (this.#buffer.length > DEFAULT_BUFFER_BYTES && count <= DEFAULT_BUFFER_BYTES)
    ) {
      // A new buffer, so no byte of a payload handed out is overwritten: sized for one large frame when
      // needed (and back to the default after it), and no larger than what there is to read, so a payload
      // read near the writer (one frame at a time) does not hold a mostly empty buffer alive.
      const next = Buffer.allocUnsafe(Math.max(count, Math.min(DEFAULT_BUFFER_BYTES, limit - from)));
      this.#buffer.copy(next, 0, from - this.#bufferStart, from - this.#bufferStart + available);
      this.#buffer = next;
      this.#handedOut = false;
    }
    this.#bufferStart = from;
    this.#bufferLength = available;
    while (available < count) {
      const room = Math.min(this.#buffer.length - this.#bufferLength, limit - (from + this.#bufferLength));
      if (room <= 0) break;
      const { bytesRead } = await this.#handle.read(
        this.#buffer,
        this.#bufferLength,
        room,
        from + this.#bufferLength,
      );
      if (bytesRead === 0) break;
      this.#bufferLength += bytesRead;
      available += bytesRead;
    }
    return Math.min(available, count);
  }
}
