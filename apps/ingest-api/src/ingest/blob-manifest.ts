import { isUtf8 } from 'node:buffer';
import type { Multipart } from '@fastify/multipart';
import {
  BlobManifestEnvelopeSchema,
  type BlobManifestItem,
  BlobManifestItemSchema,
  checkBlobMeta,
  type ItemErrorCode,
  type ItemResult,
  type Limits,
  maxManifestBytes,
} from '@sluice/contracts';
import { InvalidBatchError } from '../errors.js';
import { chunksOf } from './multipart-parts.js';

/** A manifest entry and what became of it. */
export interface ManifestEntry {
  readonly id: string;
  /** The validated item, or `undefined` when the entry itself was rejected. */
  readonly item: BlobManifestItem | undefined;
  result: ItemResult | undefined;
}

/** A `rejected` result with an error code and message. */
export function rejected(id: string, code: ItemErrorCode, message: string): ItemResult {
  return { id, status: 'rejected', error: { code, message } };
}

function idOf(item: unknown): string {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 128) : '';
}

function checkEntry(raw: unknown, limits: Limits): ManifestEntry {
  const parsed = BlobManifestItemSchema.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'item'}: ${issue.message}`);
    return {
      id: idOf(raw),
      item: undefined,
      result: rejected(idOf(raw), 'INVALID_ITEM', message.join('; ')),
    };
  }
  const item = parsed.data;
  if (item.size > limits.maxBlobBytes) {
    const message = `size is ${item.size} bytes; the limit is ${limits.maxBlobBytes}`;
    return { id: item.id, item: undefined, result: rejected(item.id, 'ITEM_TOO_LARGE', message) };
  }
  const meta = checkBlobMeta(item.meta, limits.maxBlobMetaBytes);
  if (meta !== undefined) {
    return { id: item.id, item: undefined, result: rejected(item.id, meta.code, meta.message) };
  }
  return { id: item.id, item, result: undefined };
}

async function manifestText(part: Multipart, limit: number): Promise<string> {
  if (part.type === 'field') {
    if (part.valueTruncated) throw new InvalidBatchError(`the manifest exceeds ${limit} bytes`);
    return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunksOf(part.file)) {
    size += chunk.length;
    if (size > limit) throw new InvalidBatchError(`the manifest exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  // Decoding would put U+FFFD in place of what the client sent, and its correct retry would conflict.
  if (!isUtf8(bytes)) throw new InvalidBatchError('the manifest is not valid UTF-8');
  return bytes.toString('utf8');
}

function parseManifest(text: string, limits: Limits): unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidBatchError('the manifest is not JSON', { cause: error });
  }
  const envelope = BlobManifestEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new InvalidBatchError('the manifest must be a JSON object { "items": [ … ] } and nothing else', {
      cause: envelope.error,
    });
  }
  const { items } = envelope.data;
  if (items.length === 0) throw new InvalidBatchError('a manifest needs at least one item');
  if (items.length > limits.maxBlobsPerRequest) {
    throw new InvalidBatchError(
      `a request holds at most ${limits.maxBlobsPerRequest} blobs, got ${items.length}`,
    );
  }
  return items;
}

/**
 * Reads the manifest part and checks each of its items: a bad manifest fails the request
 * ({@link InvalidBatchError}), a bad item becomes an entry that is already `rejected`.
 */
export async function readManifest(part: Multipart, limits: Limits): Promise<ManifestEntry[]> {
  const text = await manifestText(part, maxManifestBytes(limits));
  return parseManifest(text, limits).map((raw) => checkEntry(raw, limits));
}

/** The wire results of `entries` in manifest order; an entry no part answered is `MISSING_PART`. */
export function entryResults(entries: readonly ManifestEntry[]): ItemResult[] {
  return entries.map(
    (entry) =>
      entry.result ??
      rejected(entry.id, 'MISSING_PART', `no file part named "${entry.id}" followed the manifest`),
  );
}
