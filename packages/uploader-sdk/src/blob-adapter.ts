import type { BlobManifestItem, Limits } from '@sluice/contracts';
import type { BlobFiles } from './blob-files.js';
import type { DeadLetter, DeadLetterStore } from './dead-letter-store.js';
import type { LaneAdapter } from './delivery-lane.js';
import type { DiskQueue, QueueEntry } from './disk-queue/types.js';
import type { DeadItem, LaneItem } from './lane-item.js';
import type { Transport } from './transport.js';

/** What a blob queue entry holds: the manifest as sent, and the file name of its copy. */
export interface BlobEntry {
  readonly manifest: BlobManifestItem;
  readonly file: string;
}

/** A queued blob: its seq, manifest and copy. */
export interface QueuedBlob extends LaneItem {
  readonly manifest: BlobManifestItem;
  readonly file: string;
}

/** What the blob adapter works with. */
export interface BlobAdapterDeps {
  readonly queue: DiskQueue;
  readonly files: BlobFiles;
  readonly transport: Transport;
  readonly deadLetters: DeadLetterStore;
  /** The server limits in use. */
  readonly limits: () => Limits;
  /** Called after an acknowledgement left the blob queue empty. */
  readonly emptied: () => Promise<void>;
  /** Resolves when acknowledging is safe: no requeue is between appending and removing dead letters. */
  readonly ackBarrier: () => Promise<void>;
}

/** Manifest bytes read from the queue per read; blobs' own sizes are bounded by the request grouping. */
const READ_BYTES = 1024 * 1024;
/**
 * Multipart framing per blob part (delimiter, `Content-Disposition` with the id as name and filename,
 * `Content-Type`): at most about 620 bytes with the longest id and contentType and a 70-character boundary.
 */
const PART_OVERHEAD_BYTES = 1024;
/** The manifest part's own framing, the manifest's envelope and the closing delimiter, once per request. */
const REQUEST_OVERHEAD_BYTES = 1024;

/** Blobs through `POST /v1/blobs`: requests within the server's blob limits, bytes streamed from the copies. */
export function createBlobAdapter(deps: BlobAdapterDeps): LaneAdapter<QueuedBlob> {
  return {
    kind: 'blob',
    next: async (source, signal) => {
      await source.waitForUnread(signal);
      if (signal.aborted || source.stats().unread === 0) return [];
      const limits = deps.limits();
      const entries = await source.read(limits.maxBlobsPerRequest, READ_BYTES);
      return groupBlobs(entries.map(toQueuedBlob), limits);
    },
    unsendable: async (batch) => {
      const dead: DeadItem<QueuedBlob>[] = [];
      for (const item of batch) {
        if (!(await deps.files.exists(item.file))) {
          dead.push({
            item,
            status: 'unsendable',
            reason: { code: 'BLOB_FILE_MISSING', message: `the queued copy ${item.file} is gone` },
          });
        }
      }
      return dead;
    },
    send: (batch, signal) =>
      deps.transport.sendBlobs(
        batch.map((item) => ({ manifest: item.manifest, path: deps.files.path(item.file) })),
        signal,
      ),
    deadLetter: async (items) => {
      const letters: DeadLetter[] = [];
      // The bytes get a second name under the dead letters before the letter names them; the queued copy
      // goes with the acknowledgement, so a crash anywhere leaves the bytes queued or kept.
      for (const dead of items) {
        const kept = await deps.deadLetters.keepBlob(deps.files.path(dead.item.file), dead.item.file);
        letters.push(blobDeadLetter(dead, kept));
      }
      await deps.deadLetters.add(letters);
    },
    ack: async (items) => {
      await deps.ackBarrier();
      await deps.queue.ack(items.map((item) => item.seq));
      for (const item of items) await deps.files.remove(item.file, item.manifest.size);
      if (deps.queue.stats().entries === 0) await deps.emptied();
    },
  };
}

function toQueuedBlob(entry: QueueEntry): QueuedBlob {
  const parsed = JSON.parse(Buffer.from(entry.payload).toString('utf8')) as BlobEntry;
  return { seq: entry.seq, id: parsed.manifest.id, manifest: parsed.manifest, file: parsed.file };
}

/** Groups blobs, in order, into requests within the server's per-request count and byte limits. */
export function groupBlobs<T extends { readonly manifest: BlobManifestItem }>(
  items: readonly T[],
  limits: Pick<Limits, 'maxBlobsPerRequest' | 'maxBlobRequestBytes'>,
): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = REQUEST_OVERHEAD_BYTES;
  for (const item of items) {
    // Bytes, not characters: a type or meta of non-ASCII text takes up to 4 bytes a character.
    const size = item.manifest.size + PART_OVERHEAD_BYTES + Buffer.byteLength(JSON.stringify(item.manifest));
    if (
      current.length > 0 &&
      (current.length >= limits.maxBlobsPerRequest || bytes + size > limits.maxBlobRequestBytes)
    ) {
      groups.push(current);
      current = [];
      bytes = REQUEST_OVERHEAD_BYTES;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function blobDeadLetter(dead: DeadItem<QueuedBlob>, kept: boolean): DeadLetter {
  return {
    id: dead.item.id,
    kind: 'blob',
    type: dead.item.manifest.type,
    ts: dead.item.manifest.ts,
    reason: dead.reason,
    status: dead.status,
    deadAt: Date.now(),
    item: dead.item.manifest,
    ...(kept ? { file: dead.item.file } : {}),
  };
}
