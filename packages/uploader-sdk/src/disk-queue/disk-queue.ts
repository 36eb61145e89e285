import { mkdir, realpath } from 'node:fs/promises';
import type { AckSet } from './ack-set.js';
import { type DirectoryLock, lockDirectory } from './directory-lock.js';
import { OldestDropper } from './drop-oldest.js';
import { QueueLedger } from './ledger.js';
import { loadLedgerFile, saveLedgerFile } from './ledger-file.js';
import { type ResolvedOptions, resolveOptions } from './queue-options.js';
import { QueueState } from './queue-state.js';
import { QueueReader } from './reader.js';
import { type RecoveredSegments, recoverSegments, removeSegmentFiles } from './recover-segments.js';
import type { DiskQueue, DiskQueueOptions, DiskQueueStats, QueueEntry } from './types.js';
import { QueueWriter } from './writer.js';

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
    const { acks, unreadable } = await loadLedgerFile(directory);
    const recovered = await recoverSegments(directory, acks);
    if (recovered.acksChanged || unreadable || recovered.obsolete.length > 0) {
      await saveLedgerFile(directory, acks);
    }
    await removeSegmentFiles(recovered.obsolete);
    return new FileDiskQueue({ ...resolved, directory }, lock, acks, recovered);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** A `DiskQueue` composed of its writer, reader and ledger over their shared state. */
class FileDiskQueue implements DiskQueue {
  readonly #lock: DirectoryLock;
  readonly #state: QueueState;
  readonly #ledger: QueueLedger;
  readonly #reader: QueueReader;
  readonly #dropper: OldestDropper;
  readonly #writer: QueueWriter;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedOptions, lock: DirectoryLock, acks: AckSet, recovered: RecoveredSegments) {
    this.#lock = lock;
    this.#state = new QueueState(acks, recovered);
    this.#ledger = new QueueLedger(options.directory, this.#state);
    this.#reader = new QueueReader(this.#state, this.#ledger);
    this.#dropper = new OldestDropper(this.#state, this.#ledger, this.#reader, options.onDrop);
    this.#writer = new QueueWriter(options, this.#state, this.#reader, this.#dropper);
  }

  async append(payload: Uint8Array): Promise<number> {
    const [seq] = await this.appendMany([payload]);
    return seq!;
  }

  appendMany(payloads: readonly Uint8Array[]): Promise<number[]> {
    return this.#writer.appendMany(payloads);
  }

  read(maxEntries: number, maxBytes: number): Promise<QueueEntry[]> {
    return this.#reader.read(maxEntries, maxBytes);
  }

  waitForUnread(signal?: AbortSignal): Promise<void> {
    return this.#reader.waitForUnread(signal);
  }

  scan(visit: (entry: QueueEntry) => void): Promise<void> {
    return this.#reader.scan(visit);
  }

  ack(seqs: readonly number[]): Promise<void> {
    return this.#ledger.ack(seqs);
  }

  stats(): DiskQueueStats {
    return this.#state.stats();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#state.closed = true;
    this.#reader.notifyWaiters();
    await this.#writer.settle();
    await this.#ledger.settle();
    await this.#reader.withLock(async () => {
      await this.#reader.closeCursor();
      await this.#dropper.close();
    });
    try {
      await this.#writer.closeSegment();
    } finally {
      await this.#lock.release();
    }
  }
}
