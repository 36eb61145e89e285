import {
  type BlobManifestItem,
  ContentTypeSchema,
  canonicalJson,
  checkBlobMeta,
  checkRecordData,
  isItemProblem,
  isValidItemId,
  isValidItemType,
  type Limits,
  newItemId,
  recordHashOfCanonical,
} from '@sluice/contracts';

/** A record to enqueue. */
export interface RecordInput {
  /** 1–128 characters without control characters, e.g. `click` or `Order Completed`. */
  readonly type: string;
  /**
   * Any JSON value (`null` included): plain objects, dense arrays, finite numbers, strings without NUL or
   * unpaired surrogates, nested at most 64 levels (the contracts' `jsonValueProblem`). Anything else throws.
   */
  readonly data: unknown;
  /** Unique within the source forever. @default newItemId() (UUIDv7) */
  readonly id?: string;
  /** Epoch milliseconds. @default Date.now() */
  readonly ts?: number;
}

/** A blob to enqueue. */
export interface BlobInput {
  /** 1–128 characters without control characters, e.g. `click` or `Order Completed`. */
  readonly type: string;
  /** The bytes, or the path of a file to copy. */
  readonly body: Uint8Array | string;
  /** MIME type, e.g. `image/png`. */
  readonly contentType: string;
  /** Small JSON object stored with the blob. */
  readonly meta?: Record<string, unknown>;
  /** @default newItemId() (UUIDv7) */
  readonly id?: string;
  /** Epoch milliseconds. @default Date.now() */
  readonly ts?: number;
}

/** A blob's manifest fields known before its bytes are copied. */
export type BlobHeader = Omit<BlobManifestItem, 'size' | 'sha256'>;

function checkCommon(input: { type?: unknown; id?: unknown; ts?: unknown }, what: string): void {
  if (typeof input !== 'object' || input === null)
    throw new TypeError(`Expected the ${what} to be an object`);
  if (!isValidItemType(input.type)) {
    throw new TypeError(
      `Expected \`type\` to be 1-128 characters without control characters, got ${JSON.stringify(input.type)}`,
    );
  }
  if (input.id !== undefined && !isValidItemId(input.id)) {
    throw new TypeError(
      `Expected \`id\` to be 1-128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(input.id)}`,
    );
  }
  if (input.ts !== undefined && !(Number.isSafeInteger(input.ts) && (input.ts as number) >= 0)) {
    throw new TypeError(`Expected \`ts\` to be integer epoch milliseconds, got ${String(input.ts)}`);
  }
}

/**
 * Validates a record and serializes it as its wire item `{"id","type","ts","data","hash"}`, with `id` first
 * (so it can be read back cheaply) and `hash` from the contracts' `recordHash`.
 * @throws {TypeError} for an invalid field or data without a JSON form. @throws {RangeError} for data above
 * the server's `maxItemDataBytes`.
 */
export function serializeRecord(
  item: RecordInput,
  limits: Limits,
): { readonly payload: Buffer; readonly id: string } {
  checkCommon(item, 'record');
  const checked = checkRecordData(item.data, limits.maxItemDataBytes);
  if (isItemProblem(checked)) {
    if (checked.code === 'ITEM_TOO_LARGE') {
      throw new RangeError(`record ${checked.message}; the server accepts no more`);
    }
    throw new TypeError(`Expected \`data\` to be JSON the server can store: ${checked.message}`);
  }
  const id = item.id ?? newItemId();
  const ts = item.ts ?? Date.now();
  // Sending the canonical text makes the server parse exactly the value that was hashed here.
  const dataText = checked.canonical;
  const hash = recordHashOfCanonical(item.type, ts, dataText);
  const text = `{"id":${JSON.stringify(id)},"type":${JSON.stringify(item.type)},"ts":${ts},"data":${dataText},"hash":"${hash}"}`;
  return { payload: Buffer.from(text), id };
}

const ID_PREFIX = Buffer.from('{"id":"');

/**
 * The id of a record serialized by {@link serializeRecord}: the first property, written without escapes, in
 * ASCII (ids are `[A-Za-z0-9._:-]`), so it is read without decoding the payload or copying it.
 */
export function recordIdOf(payload: Uint8Array): string {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (bytes.length > ID_PREFIX.length && ID_PREFIX.compare(bytes, 0, ID_PREFIX.length) === 0) {
    const end = bytes.indexOf(0x22, ID_PREFIX.length);
    if (end > 0) return bytes.toString('latin1', ID_PREFIX.length, end);
  }
  return String((JSON.parse(bytes.toString('utf8')) as { id: unknown }).id);
}

/**
 * Validates a blob's fields (not its bytes) and fills in `id` and `ts`.
 * @throws {TypeError} for an invalid field. @throws {RangeError} for `meta` above `maxBlobMetaBytes`.
 */
export function blobHeader(blob: BlobInput, limits: Limits): BlobHeader {
  checkCommon(blob, 'blob');
  if (!ContentTypeSchema.safeParse(blob.contentType).success) {
    throw new TypeError(
      `Expected \`contentType\` to be a MIME type, got ${JSON.stringify(blob.contentType)}`,
    );
  }
  if (typeof blob.body !== 'string' && !(blob.body instanceof Uint8Array)) {
    throw new TypeError('Expected `body` to be a Uint8Array or a file path');
  }
  let meta: BlobManifestItem['meta'];
  if (blob.meta !== undefined) {
    const problem = checkBlobMeta(blob.meta, limits.maxBlobMetaBytes);
    if (problem?.code === 'ITEM_TOO_LARGE') {
      throw new RangeError(`blob ${problem.message}; the server accepts no more`);
    }
    if (problem !== undefined) {
      throw new TypeError(`Expected \`meta\` to be a JSON object the server can store: ${problem.message}`);
    }
    meta = JSON.parse(canonicalJson(blob.meta)) as BlobManifestItem['meta'];
  }
  return {
    id: blob.id ?? newItemId(),
    type: blob.type,
    ts: blob.ts ?? Date.now(),
    contentType: blob.contentType,
    ...(meta === undefined ? {} : { meta }),
  };
}
