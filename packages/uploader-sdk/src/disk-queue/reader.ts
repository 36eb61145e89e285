import { UploaderClosedError } from '../errors.js';
import type { QueueLedger } from './ledger.js';
import { QueueCursor } from './queue-cursor.js';
import type { QueueState } from './queue-state.js';
import type { QueueEntry } from './types.js';

/**
 * The read side of one open queue: a cursor over the segments that hands each entry out once per process,
 * skipping acknowledged and damaged records, plus the waiters for something to read. Reads run one at a
 * time under the read lock.
 */
export class QueueReader {
  readonly #state: QueueState;
  readonly #ledger: QueueLedger;
  readonly #cursor: QueueCursor;
  readonly #waiters = new Set<() => void>();
  #lock: Promise<void> = Promise.resolve();

  constructor(state: QueueState, ledger: QueueLedger) {
    this.#state = state;
    this.#ledger = ledger;
    this.#cursor = new QueueCursor(() => state.segments);
  }

  /** `DiskQueue.read`. */
  async read(maxEntries: number, maxBytes: number): Promise<QueueEntry[]> {
    const state = this.#state;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`Expected \`maxEntries\` to be a positive integer, got ${String(maxEntries)}`);
    }
    if (state.closed) throw new UploaderClosedError();
    return await this.withLock(async () => {
      if (state.closed) throw new UploaderClosedError();
      const entries: QueueEntry[] = [];
      let bytes = 0;
      let emptied = false;
      while (entries.length < maxEntries) {
        const commits = state.commits;
        const buffered = this.#cursor.peekBuffered();
        const next = buffered === undefined ? await this.#cursor.peek() : (buffered ?? undefined);
        if (next === undefined) {
          // Everything visible was passed; entries still counted as unread sat in records damaged after
          // they were written, and must not keep waiters spinning.
          if (commits === state.commits) state.unread = 0;
          break;
        }
        const { segment, event } = next;
        if (event.kind === 'corrupt') {
          if (event.offset >= segment.scannedBytes) state.corruptSkipped += 1;
          this.#cursor.advance(next);
          continue;
        }
        const { seq, payload, appendedAt } = event.frame;
        if (seq < state.readFrontier || state.acks.has(seq)) {
          if (state.ackedUnread.delete(seq)) {
            state.release(segment, payload.byteLength);
            emptied ||= segment.live === 0;
          }
          state.readFrontier = Math.max(state.readFrontier, seq + 1);
          this.#cursor.advance(next);
          continue;
        }
        if (entries.length > 0 && bytes + payload.byteLength > maxBytes) break;
        this.#cursor.advance(next);
        state.readFrontier = seq + 1;
        state.inFlight.set(seq, { bytes: payload.byteLength, appendedAt, segment });
        state.unread -= 1;
        entries.push({ seq, payload });
        bytes += payload.byteLength;
      }
      await this.refreshUnreadHead();
      // A segment emptied by passing entries acknowledged unread is deleted by the next ledger save.
      if (emptied) await this.#ledger.save();
      return entries;
    });
  }

  /** `DiskQueue.waitForUnread`. */
  waitForUnread(signal?: AbortSignal): Promise<void> {
    if (this.#state.unread > 0 || this.#state.closed || signal?.aborted) return Promise.resolve();
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

  /** `DiskQueue.scan`: a cursor of its own, so the read position is untouched. */
  async scan(visit: (entry: QueueEntry) => void): Promise<void> {
    const state = this.#state;
    if (state.closed) throw new UploaderClosedError();
    const cursor = new QueueCursor(() => state.segments);
    try {
      for (let next = await cursor.peek(); next !== undefined; next = await cursor.peek()) {
        cursor.advance(next);
        if (next.event.kind !== 'frame') continue;
        const { seq, payload } = next.event.frame;
        if (!state.acks.has(seq)) visit({ seq, payload });
      }
    } finally {
      await cursor.close();
    }
  }

  /** Wakes every `waitForUnread` caller (something was appended, or the queue is closing). */
  notifyWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Runs `action` once every earlier holder of the read lock is done. */
  async withLock<T>(action: () => Promise<T>): Promise<T> {
    const previous = this.#lock;
    let unlock!: () => void;
    this.#lock = new Promise((resolve) => {
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
  async refreshUnreadHead(): Promise<void> {
    const state = this.#state;
    if (state.unread === 0) {
      state.unreadHeadAppendedAt = undefined;
      return;
    }
    const next = await this.#cursor.peek();
    if (next?.event.kind === 'frame') state.unreadHeadAppendedAt = next.event.frame.appendedAt;
  }

  /** Closes the read cursor's file. Under the read lock. */
  async closeCursor(): Promise<void> {
    await this.#cursor.close();
  }
}
