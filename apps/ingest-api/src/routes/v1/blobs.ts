import { createHash, type Hash } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import multipart, { type Multipart } from '@fastify/multipart';
import {
  API_PATHS,
  BlobManifestEnvelopeSchema,
  type BlobManifestItem,
  BlobManifestItemSchema,
  blobItemHash,
  checkBlobMeta,
  countStatuses,
  type IngestResponse,
  type ItemErrorCode,
  type ItemResult,
  type Limits,
  MANIFEST_FIELD,
} from '@sluice/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sqlStateOf } from '../../db/connection-errors.js';
import type { DbTransaction } from '../../db/database.js';
import { blobStaging, blobs } from '../../db/schema/blobs.js';
import { beginStoring } from '../../error-handler.js';
import {
  DatabaseOverloadedError,
  InvalidBatchError,
  isRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../../errors.js';
import { spoolFault } from '../../ingest/blob-spool.js';
import { insertItemsInTransaction, outcomeResult } from '../../ingest/insert-items.js';

/** Options of {@link blobRoutes}. */
export interface BlobRoutesOptions {
  /** Effective limits; the blob ones apply here. */
  readonly limits: Limits;
}

/** A manifest entry and what became of it. */
interface Entry {
  readonly id: string;
  /** The validated item, or `undefined` when the entry itself was rejected. */
  readonly item: BlobManifestItem | undefined;
  result: ItemResult | undefined;
}

function idOf(item: unknown): string {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 128) : '';
}

function rejected(id: string, code: ItemErrorCode, message: string): ItemResult {
  return { id, status: 'rejected', error: { code, message } };
}

function checkEntry(raw: unknown, limits: Limits): Entry {
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

/** Counts every byte of the request body as it arrives; multipart bodies have no `bodyLimit`. */
class RequestMeter {
  bytes = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
  };

  /** @throws {PayloadTooLargeError} once the body has passed the limit. */
  check(): void {
    if (this.bytes > this.#limit) {
      throw new PayloadTooLargeError(`a blob request may carry at most ${this.#limit} bytes`);
    }
  }
}

type PartOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** What a failure while reading the multipart body stands for: the body's fault, never the server's. */
function malformedBody(error: unknown): Error {
  if (isRequestError(error)) return error;
  if ((error as { statusCode?: unknown }).statusCode === 413) {
    return new PayloadTooLargeError('the multipart body exceeds a limit', { cause: error });
  }
  return new InvalidBatchError('the multipart body is malformed or was cut short', { cause: error });
}

/** The chunks of one part; a body that is malformed or breaks off inside the part fails as {@link malformedBody}. */
async function* chunksOf(file: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    throw malformedBody(error);
  }
}

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
    await out.close();
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
  return Buffer.concat(chunks).toString('utf8');
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

/** Reads multipart parts one at a time, turning malformed-body failures into {@link InvalidBatchError}. */
async function nextPart(parts: AsyncIterator<Multipart>): Promise<Multipart | undefined> {
  try {
    const next = await parts.next();
    return next.done ? undefined : next.value;
  } catch (error) {
    throw malformedBody(error);
  }
}

/** A part whose bytes matched its manifest entry, spooled at `path`. */
interface Verified {
  readonly entry: Entry;
  readonly item: BlobManifestItem;
  readonly path: string;
}

/**
 * Stores the verified blobs of one request in one transaction: their item rows through the idempotency
 * gate (one set-based insert), then for each new one its blob row and its bytes, read back one blob
 * at a time. Sets each entry's result.
 */
async function stageAll(tx: DbTransaction, source: string, verified: readonly Verified[]): Promise<void> {
  const outcomes = await insertItemsInTransaction(
    tx,
    source,
    verified.map(({ item }) => ({
      id: item.id,
      kind: 'blob',
      type: item.type,
      ts: item.ts,
      hash: blobItemHash(item),
    })),
  );
  const stored = verified.filter((_, index) => outcomes[index] === 'stored');
  if (stored.length > 0) {
    await tx.insert(blobs).values(
      stored.map(({ item }) => ({
        source,
        id: item.id,
        size: item.size,
        contentType: item.contentType,
        sha256: item.sha256,
        meta: item.meta ?? null,
      })),
    );
  }
  for (const { item, path } of stored) {
    await tx.insert(blobStaging).values({ source, id: item.id, bytes: await readFile(path) });
  }
  verified.forEach(({ entry, item }, index) => {
    entry.result = outcomeResult(item.id, outcomes[index]);
  });
}

/**
 * `POST /v1/blobs` (`multipart/form-data`): the `manifest` field first, then one file part per manifest
 * item, named by its id, in any order. Each part is streamed through SHA-256 and a size count; a part
 * that differs from its manifest entry is `rejected` `CHECKSUM_MISMATCH`, a missing one `MISSING_PART`.
 * Verified parts are spooled to `DATA_DIR/spool`, then staged in the database in one transaction with
 * their item rows, so `stored` means durable and reachable by every worker. A part no manifest item names, a bad or misplaced
 * manifest (400) and a body over the request limit (413) fail the whole request, writing nothing.
 */
export const blobRoutes: FastifyPluginAsync<BlobRoutesOptions> = async (app, { limits }) => {
  // Room for every item at its largest meta, plus its other fields.
  const manifestLimit = limits.maxBlobsPerRequest * (limits.maxBlobMetaBytes + 1024);
  await app.register(multipart, {
    throwFileSizeLimit: false,
    limits: {
      fieldSize: manifestLimit,
      fields: 2,
      files: limits.maxBlobsPerRequest + 1,
      parts: limits.maxBlobsPerRequest + 3,
      fileSize: limits.maxBlobBytes,
      headerPairs: 32,
    },
  });

  app.post(API_PATHS.blobs, async (request, reply): Promise<IngestResponse> => {
    if (!request.isMultipart()) {
      throw new UnsupportedMediaTypeError('POST /v1/blobs takes multipart/form-data');
    }
    const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      // Blobs are verified byte for byte against their SHA-256; they travel as they are.
      throw new UnsupportedMediaTypeError(`POST /v1/blobs takes no Content-Encoding, got ${encoding}`);
    }
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > limits.maxBlobRequestBytes) {
      reply.header('connection', 'close');
      throw new PayloadTooLargeError(`a blob request may carry at most ${limits.maxBlobRequestBytes} bytes`);
    }
    const stopTimer = app.metrics.batchDuration.startTimer({ route: 'blobs' });
    const meter = new RequestMeter(limits.maxBlobRequestBytes);
    try {
      const results = await receive(request, meter);
      const counts = countStatuses(results);
      for (const [status, count] of Object.entries(counts)) {
        if (count > 0) app.metrics.items.inc({ kind: 'blob', status }, count);
      }
      request.log.info(
        { source: request.source, count: results.length, bytes: meter.bytes, ...counts },
        'blobs answered',
      );
      return { results, counts };
    } catch (error) {
      // The rest of the body is not worth reading.
      reply.header('connection', 'close');
      throw error;
    } finally {
      request.raw.off('data', meter.onData);
      stopTimer();
    }
  });

  async function receive(request: FastifyRequest, meter: RequestMeter): Promise<ItemResult[]> {
    const parts = request.parts()[Symbol.asyncIterator]();
    const first = nextPart(parts);
    // The first next() has just piped the request into the parser; counting from here sees every chunk.
    request.raw.on('data', meter.onData);
    const manifestPart = await first;
    if (manifestPart === undefined || manifestPart.fieldname !== MANIFEST_FIELD) {
      throw new InvalidBatchError(`the first part must be the "${MANIFEST_FIELD}" field`);
    }
    const entries = parseManifest(await manifestText(manifestPart, manifestLimit), limits).map((raw) =>
      checkEntry(raw, limits),
    );
    const waiting = new Map<string, Entry[]>();
    for (const entry of entries) {
      const list = waiting.get(entry.id);
      if (list === undefined) waiting.set(entry.id, [entry]);
      else list.push(entry);
    }

    // Parts are spooled to disk while they arrive, so a slow client holds no database connection and
    // memory stays at a chunk per request; the transaction at the end is short. The spool reserves
    // what the manifest declares (a part is written only up to its declared size) before any part
    // is read, so a request it cannot hold is refused having written nothing.
    const declared = entries.reduce((sum, entry) => sum + (entry.item?.size ?? 0), 0);
    const spool = await app.blobSpool.begin(Math.min(declared, limits.maxBlobRequestBytes));
    try {
      const verified: Verified[] = [];
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
        const path = join(spool.directory, `part-${partNumber}`);
        const outcome = await spoolPart(part.file, entry.item, meter, path);
        if (outcome.ok) verified.push({ entry, item: entry.item, path });
        else {
          entry.result = rejected(entry.id, 'CHECKSUM_MISMATCH', outcome.message);
          await rm(path, { force: true });
        }
      }
      meter.check();
      beginStoring(request);
      if (verified.length > 0) {
        await app.db.transaction((tx) => stageAll(tx, request.source, verified));
      }
    } catch (error) {
      const state = sqlStateOf(error);
      if (state === '40P01' || state === '40001') {
        throw new DatabaseOverloadedError('a concurrent request holds the same ids; retry', { cause: error });
      }
      throw error;
    } finally {
      await spool.end().catch((error: unknown) => {
        request.log.warn({ err: error }, 'could not remove spool files; the next start sweeps them');
      });
    }

    return entries.map(
      (entry) =>
        entry.result ??
        rejected(entry.id, 'MISSING_PART', `no file part named "${entry.id}" followed the manifest`),
    );
  }
};
