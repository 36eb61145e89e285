import type { DeadLetter } from './dead-letter-store.js';
import type { WhenFull } from './disk-queue/types.js';
import type { RecordInput } from './item-input.js';

/**
 * What the SDK's own helpers (the file tailers) may reach inside an uploader created by `createUploader`,
 * without widening the public `Uploader` interface: its directory (where tailers keep checkpoints), its
 * dead-letter store (where a line that cannot be sent is kept with the reason), and its record quota (so a
 * tailer can hold back instead of having lines dropped under `whenFull: 'drop-oldest'`).
 */
export interface UploaderInternals {
  readonly directory: string;
  readonly maxQueueBytes: number;
  readonly whenFull: WhenFull;
  /** Bytes of queued records on disk. */
  queuedRecordBytes(): number;
  /**
   * Enqueues records with one durable append; outcomes in `items`' order, as `Promise.allSettled` gives
   * them for `enqueue` one at a time (a record that cannot be serialized is rejected alone).
   */
  enqueueRecords(items: readonly RecordInput[]): Promise<PromiseSettledResult<{ id: string }>[]>;
  /** Appends dead letters to the uploader's store; resolves once they are durable. */
  deadLetter(letters: readonly DeadLetter[]): Promise<void>;
}

const registry = new WeakMap<object, UploaderInternals>();

/** Called by the uploader on creation. */
export function registerUploaderInternals(uploader: object, internals: UploaderInternals): void {
  registry.set(uploader, internals);
}

/** The internals of an uploader made by `createUploader`; undefined for any other object. */
export function uploaderInternals(uploader: object): UploaderInternals | undefined {
  return registry.get(uploader);
}
