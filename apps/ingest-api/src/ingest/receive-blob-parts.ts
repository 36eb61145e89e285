import { createHash, type Hash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Multipart } from '@fastify/multipart';
import type { BlobManifestItem } from '@sluice/contracts';
import { InvalidBatchError } from '../errors.js';
import { type ManifestEntry, rejected } from './blob-manifest.js';
import { spoolFault } from './blob-spool.js';
import { chunksOf, nextPart } from './multipart-parts.js';
import type { RequestMeter } from './request-meter.js';

/** A part whose bytes matched its manifest entry, spooled at `path`. */
export interface VerifiedPart {
  readonly entry: ManifestEntry;
  readonly item: BlobManifestItem;
  readonly path: string;
}

type PartOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Runs one operation on the spool's disk: its failure is the server's (retryable, the client keeps its
 * blobs), never taken for a fault of the request.
 */
async function spoolWrite<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw spoolFault(what, error);
  }
}

/**
 * Streams one file part to `path` through a SHA-256 and a byte count, never holding more than a chunk
 * in memory. Writes only while the bytes fit the manifest size; the rest is read and dropped.
 */
async function spoolPart(
  file: Readable & { truncated?: boolean },
  item: BlobManifestItem,
  meter: RequestMeter,
  path: string,
): Promise<PartOutcome> {
  const hash: Hash = createHash('sha256');
  let size = 0;
  const out = await spoolWrite('create a file in', () => open(path, 'wx'));
  try {
    for await (const chunk of chunksOf(file)) {
      meter.check();
      size += chunk.length;
      if (size <= item.size) {
        hash.update(chunk);
        await spoolWrite('write to', () => out.write(chunk));
      }
    }
  } finally {
    // A failed close can be where a write's failure shows (a full or failing disk): the server's fault.
    await spoolWrite('write to', () => out.close());
  }
  meter.check();
  if (file.truncated === true || size !== item.size) {
    const actual = `${file.truncated ? 'more than ' : ''}${size}`;
    return { ok: false, message: `part has ${actual} bytes; the manifest says ${item.size}` };
  }
  const actual = hash.digest('hex');
  if (actual !== item.sha256) {
    return { ok: false, message: `part has SHA-256 ${actual}; the manifest says ${item.sha256}` };
  }
  return { ok: true };
}

async function drain(file: Readable, meter: RequestMeter): Promise<void> {
  for await (const _chunk of chunksOf(file)) meter.check();
}

/**
 * Reads the file parts that follow the manifest, each matched to the next manifest entry of its name
 * without a part yet. A part that matches its entry's size and SHA-256 is spooled to `directory` and
 * returned; one that differs sets its entry `rejected` `CHECKSUM_MISMATCH`; the part of an already
 * rejected entry is read and dropped.
 * @throws {InvalidBatchError} for a part no waiting entry names, or a field part.
 */
export async function receiveBlobParts(
  parts: AsyncIterator<Multipart>,
  entries: readonly ManifestEntry[],
  meter: RequestMeter,
  directory: string,
): Promise<VerifiedPart[]> {
  const waiting = new Map<string, ManifestEntry[]>();
  for (const entry of entries) {
    const list = waiting.get(entry.id);
    if (list === undefined) waiting.set(entry.id, [entry]);
    else list.push(entry);
  }
  const verified: VerifiedPart[] = [];
  let partNumber = 0;
  for (let part = await nextPart(parts); part !== undefined; part = await nextPart(parts)) {
    meter.check();
    const entry = waiting.get(part.fieldname)?.shift();
    if (entry === undefined || part.type !== 'file') {
      throw new InvalidBatchError(`part "${part.fieldname}" matches no manifest item without a part`);
    }
    if (entry.item === undefined) {
      await drain(part.file, meter);
      continue;
    }
    partNumber += 1;
    const path = join(directory, `part-${partNumber}`);
    const outcome = await spoolPart(part.file, entry.item, meter, path);
    if (outcome.ok) verified.push({ entry, item: entry.item, path });
    else {
      entry.result = rejected(entry.id, 'CHECKSUM_MISMATCH', outcome.message);
      await spoolWrite('remove a file from', () => rm(path, { force: true }));
    }
  }
  return verified;
}
