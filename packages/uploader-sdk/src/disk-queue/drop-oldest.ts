import type { QueueLedger } from './ledger.js';
import { QueueCursor } from './queue-cursor.js';
import type { QueueState } from './queue-state.js';
import type { QueueReader } from './reader.js';
import type { DiskQueueOptions, QueueEntry } from './types.js';

/**
 * Makes room under `whenFull: 'drop-oldest'`: a cursor of its own walks from the oldest entry and drops
 * entries, read or not, by recording them as acknowledged.
 */
export class OldestDropper {
  readonly #state: QueueState;
  readonly #ledger: QueueLedger;
  readonly #reader: QueueReader;
  readonly #onDrop: DiskQueueOptions['onDrop'];
  readonly #cursor: QueueCursor;

  constructor(
    state: QueueState,
    ledger: QueueLedger,
    reader: QueueReader,
    onDrop: DiskQueueOptions['onDrop'],
  ) {
    this.#state = state;
    this.#ledger = ledger;
    this.#reader = reader;
    this.#onDrop = onDrop;
    this.#cursor = new QueueCursor(() => state.segments);
  }

  /**
   * Drops the oldest un-acknowledged entries until `excess` payload bytes are freed (or nothing is left),
   * records them as acknowledged, and reports them through `onDrop` before their space is reused.
   */
  async drop(excess: number): Promise<void> {
    const state = this.#state;
    const dropped: QueueEntry[] = [];
    let freed = 0;
    while (freed < excess) {
      const next = await this.#cursor.peek();
      if (next === undefined) break;
      this.#cursor.advance(next);
      if (next.event.kind === 'corrupt') continue;
      const { segment } = next;
      const { seq, payload } = next.event.frame;
      if (state.acks.has(seq)) {
        if (state.ackedUnread.delete(seq)) state.release(segment, payload.byteLength);
        continue;
      }
      if (state.inFlight.delete(seq)) {
        // Handed out already: if it is delivered anyway, its ack is a no-op.
      } else if (seq >= state.readFrontier) {
        state.unread -= 1;
      } else {
        continue;
      }
      state.acks.add(seq);
      state.entries -= 1;
      state.release(segment, payload.byteLength);
      state.dropped += 1;
      dropped.push({ seq, payload });
      freed += payload.byteLength;
    }
    if (dropped.length === 0) return;
    await this.#ledger.save();
    await this.#reader.withLock(() => this.#reader.refreshUnreadHead());
    await this.#onDrop?.(dropped);
  }

  /** Closes the cursor's file. */
  async close(): Promise<void> {
    await this.#cursor.close();
  }
}
