import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js';
import type { LaneAdapter } from './delivery-lane.js';
import type { DiskQueue, QueueEntry } from './disk-queue/types.js';
import { recordIdOf } from './item-input.js';
import type { DeadItem, LaneItem } from './lane-item.js';
import type { Transport } from './transport.js';

/** A queued record: its seq and its serialized wire item. */
export interface QueuedRecord extends LaneItem {
  readonly payload: Uint8Array;
}

/** What the record adapter works with. */
export interface RecordAdapterDeps {
  readonly queue: DiskQueue;
  /** Where batches come from (the batcher reading the lane's counted source). */
  readonly batcher: { next(signal: AbortSignal): Promise<QueueEntry[][]> };
  readonly transport: Transport;
  readonly deadLetters: DeadLetterStore;
  /** Resolves when acknowledging is safe: no requeue is between appending and removing dead letters. */
  readonly ackBarrier: () => Promise<void>;
}

/** Records through `POST /v1/batch`: batches from the batcher, bodies from the serialized items as they are. */
export function createRecordAdapter(deps: RecordAdapterDeps): LaneAdapter<QueuedRecord> {
  return {
    kind: 'record',
    next: async (_source, signal) => {
      const batches = await deps.batcher.next(signal);
      return batches.map((batch) => batch.map(toQueuedRecord));
    },
    unsendable: async () => [],
    send: (batch, signal) =>
      deps.transport.sendRecords(
        batch.map((item) => item.payload),
        signal,
      ),
    deadLetter: (items) => deps.deadLetters.add(items.map(recordDeadLetter)),
    ack: async (items) => {
      await deps.ackBarrier();
      await deps.queue.ack(items.map((item) => item.seq));
    },
  };
}

function toQueuedRecord(entry: QueueEntry): QueuedRecord {
  return { seq: entry.seq, id: recordIdOf(entry.payload), payload: entry.payload };
}

function recordDeadLetter(dead: DeadItem<QueuedRecord>): DeadLetter {
  const item = JSON.parse(Buffer.from(dead.item.payload).toString('utf8')) as { type: string; ts: number };
  return {
    id: dead.item.id,
    kind: 'record',
    type: item.type,
    ts: item.ts,
    reason: dead.reason,
    status: dead.status,
    deadAt: Date.now(),
    item,
  };
}
