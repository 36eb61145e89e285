import { UploaderClosedError } from '../errors.js';
import { saveLedgerFile } from './ledger-file.js';
import type { QueueState } from './queue-state.js';
import type { Segment } from './segment.js';
import { removeSegmentFile } from './segment-io.js';

/**
 * Acknowledgements of one open queue: takes acks in memory, writes the ledger file durably (coalescing
 * concurrent callers), and only after that write deletes segments whose entries are all acknowledged.
 */
export class QueueLedger {
  readonly #directory: string;
  readonly #state: QueueState;
  #requested = 0;
  #saved = 0;
  #saving: Promise<void> | undefined;

  constructor(directory: string, state: QueueState) {
    this.#directory = directory;
    this.#state = state;
  }

  /** `DiskQueue.ack`: records `seqs` as done and resolves once that is durable. */
  async ack(seqs: readonly number[]): Promise<void> {
    const state = this.#state;
    if (state.closed) throw new UploaderClosedError();
    let changed = false;
    // Consecutive seqs (a batch's, mostly) go into the ack set as one range.
    let runFirst = 0;
    let runLast = -1;
    const addRun = (): void => {
      if (runLast >= runFirst) state.acks.addRange(runFirst, runLast);
    };
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq) || seq < 1 || seq >= state.committedSeq) continue;
      if ((seq >= runFirst && seq <= runLast) || state.acks.has(seq)) continue;
      const entry = state.inFlight.get(seq);
      if (entry !== undefined) {
        state.inFlight.delete(seq);
        state.entries -= 1;
        state.release(entry.segment, entry.bytes);
      } else if (seq >= state.readFrontier) {
        state.ackedUnread.add(seq);
        state.entries -= 1;
        state.unread -= 1;
      } else {
        // A reader passed it without handing it out: it was lost to damage, nothing to record.
        continue;
      }
      changed = true;
      if (seq === runLast + 1 && runLast >= runFirst) runLast = seq;
      else {
        addRun();
        runFirst = seq;
        runLast = seq;
      }
    }
    addRun();
    // Acks are taken in memory before the ledger is written; when a write failed, acking the same seqs
    // again must write it again rather than find nothing new and report success.
    if (changed || this.#saved < this.#requested) await this.save();
  }

  /**
   * Durably writes the ack ledger, coalescing concurrent callers into as few writes as possible, then
   * deletes segments whose entries were all acknowledged before that write.
   */
  async save(): Promise<void> {
    const state = this.#state;
    this.#requested += 1;
    const target = this.#requested;
    while (this.#saved < target) {
      if (this.#saving !== undefined) {
        await this.#saving;
        continue;
      }
      const covered = this.#requested;
      const done = state.segments.filter((segment) => segment.sealed && segment.live === 0);
      const oldest = state.segments.find((segment) => !done.includes(segment));
      // Everything below the oldest remaining segment is acknowledged, or was lost and already counted.
      state.acks.raiseWatermark((oldest?.firstSeq ?? state.committedSeq) - 1);
      this.#saving = (async () => {
        await saveLedgerFile(this.#directory, state.acks);
        this.#saved = Math.max(this.#saved, covered);
        await this.#deleteSegments(done);
      })().finally(() => {
        this.#saving = undefined;
      });
      await this.#saving;
    }
  }

  /** Resolves once no ledger write is under way. A failed one already rejected the call that started it. */
  async settle(): Promise<void> {
    while (this.#saving !== undefined) await this.#saving.catch(() => undefined);
  }

  async #deleteSegments(done: readonly Segment[]): Promise<void> {
    const segments = this.#state.segments;
    for (const segment of done) {
      const index = segments.indexOf(segment);
      if (index < 0) continue;
      segments.splice(index, 1);
      await removeSegmentFile(segment.path);
    }
  }
}
