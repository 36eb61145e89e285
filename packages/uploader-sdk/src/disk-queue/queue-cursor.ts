import type { Segment } from './segment.js';
import { openSegmentForReading } from './segment-io.js';
import { type SegmentEvent, SegmentReader } from './segment-reader.js';

/** An event together with the segment it came from. */
export interface CursorEvent {
  readonly segment: Segment;
  readonly event: SegmentEvent;
}

/**
 * A forward position over the queue's segments, oldest first. It reads one segment at a time through a
 * `SegmentReader`, moves to the next segment once a sealed one is exhausted, and stops at the visible end of
 * the segment still being written.
 */
export class QueueCursor {
  readonly #segments: () => readonly Segment[];
  #segment: Segment | undefined;
  #reader: SegmentReader | undefined;

  /** `segments` returns the queue's current segments, ascending by first seq. */
  constructor(segments: () => readonly Segment[]) {
    this.#segments = segments;
  }

  /**
   * `peek` without waiting when the next event is buffered in the current segment: the event, `null` at
   * the visible end of the segment being written, `undefined` when only `peek` can tell.
   */
  peekBuffered(): CursorEvent | null | undefined {
    const segment = this.#segment;
    if (this.#reader === undefined || segment === undefined) return undefined;
    const event = this.#reader.peekBuffered(segment.size);
    if (event === null) return segment.sealed ? undefined : null;
    return event === undefined ? undefined : { segment, event };
  }

  /** The next event without consuming it, or `undefined` at the end of what is visible now. */
  async peek(): Promise<CursorEvent | undefined> {
    for (;;) {
      if (this.#reader !== undefined && this.#segment !== undefined) {
        const segment = this.#segment;
        const event = await this.#reader.peek(segment.size);
        if (event !== undefined) return { segment, event };
        if (!segment.sealed) return undefined;
      }
      const current = this.#segment;
      const next = this.#segments().find(
        (segment) => current === undefined || segment.firstSeq > current.firstSeq,
      );
      if (next === undefined) return undefined;
      await this.#moveTo(next);
    }
  }

  /** Consumes an event returned by `peek`. */
  advance(event: CursorEvent): void {
    this.#reader?.advance(event.event);
  }

  /** Closes the open segment file, if any. */
  async close(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    await reader?.close();
  }

  async #moveTo(segment: Segment): Promise<void> {
    await this.close();
    this.#segment = segment;
    try {
      this.#reader = new SegmentReader(await openSegmentForReading(segment.path));
    } catch (error) {
      // A segment is deleted only once fully acknowledged, so one that vanished has nothing left to read.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
