import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { assertObjectKey } from './object-key.js';
import type { ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
import { ObjectStoreError } from './object-store-error.js';

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** Bucket that receives the objects; it must exist. */
  readonly bucket: string;
  /** Endpoint of an S3-compatible store (MinIO, R2, Ceph, s3rver…). @default AWS for `region` */
  readonly endpoint?: string | undefined;
  /** @default 'us-east-1' */
  readonly region?: string | undefined;
  /** Static credentials; both unset uses the AWS default credential chain. */
  readonly accessKeyId?: string | undefined;
  /** Static credentials; both unset uses the AWS default credential chain. */
  readonly secretAccessKey?: string | undefined;
  /** Address buckets as `endpoint/bucket` instead of `bucket.endpoint` (most non-AWS stores need it). @default false */
  readonly forcePathStyle?: boolean | undefined;
  /** Prefix prepended to every key, e.g. `sluice/`. @default '' */
  readonly keyPrefix?: string | undefined;
  /** Milliseconds one request (connect, send, response) may take before it fails. @default 60000 */
  readonly requestTimeoutMs?: number | undefined;
  /** Milliseconds to establish a connection. @default 5000 */
  readonly connectionTimeoutMs?: number | undefined;
  /** Most concurrent sockets to the store. @default 50 */
  readonly maxSockets?: number | undefined;
  /** SDK-level attempts per operation; the worker retries on top with its own backoff. @default 2 */
  readonly maxAttempts?: number | undefined;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result <= 0) {
    throw new TypeError(`S3ObjectStore option ${name} must be a positive number, got ${String(value)}`);
  }
  return result;
}

/** The SDK's per-request options: it types `abortSignal` as optional but not `undefined`. */
function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404;
}

/**
 * The permission a 403 says the credentials lack, for the error's message; `undefined` for other
 * failures and for 403s about the credentials themselves (unknown key, bad signature, skewed clock).
 * HEAD answers carry no error code, so any 403 to a HEAD counts.
 */
function deniedPermission(error: unknown, operation: 'put' | 'head' | 'get'): string | undefined {
  if (!(error instanceof S3ServiceException) || error.$metadata.httpStatusCode !== 403) return undefined;
  if (operation === 'put') return error.name === 'AccessDenied' ? 's3:PutObject' : undefined;
  if (operation === 'get' && error.name !== 'AccessDenied') return undefined;
  // Without s3:ListBucket, S3 answers 403 instead of 404 for a key that does not exist.
  return 's3:GetObject, or the object is missing and they lack s3:ListBucket';
}

function s3Error(operation: 'put' | 'head' | 'get', key: string, error: unknown): ObjectStoreError {
  return new ObjectStoreError(operation, key, {
    cause: error,
    deniedPermission: deniedPermission(error, operation),
  });
}

/** A stream of `chunks` whose failure aborts `controller` (the request) instead of going unhandled. */
function streamOf(chunks: AsyncIterable<Uint8Array>, controller: AbortController): Readable {
  const stream = Readable.from(abortOnFailure(chunks, controller));
  stream.on('error', () => {}); // reported through the aborted request
  return stream;
}

async function* abortOnFailure(
  chunks: AsyncIterable<Uint8Array>,
  controller: AbortController,
): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
  } catch (error) {
    controller.abort(error);
    throw error;
  }
}

/**
 * An object store on any S3-compatible endpoint via `@aws-sdk/client-s3`. Checksums are only computed
 * when an operation requires them, because non-AWS stores often reject the SDK's default CRC trailers.
 * An upload given whole carries a `Content-MD5`, which every S3 implementation verifies; one streamed in
 * chunks (never held whole) carries its SHA-256 as `x-amz-checksum-sha256`, which AWS and MinIO verify.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  #closed = false;

  constructor(options: S3ObjectStoreOptions) {
    if (typeof options.bucket !== 'string' || options.bucket === '') {
      throw new TypeError(`S3ObjectStore option bucket must be a bucket name, got ${String(options.bucket)}`);
    }
    const requestTimeout = positive('requestTimeoutMs', options.requestTimeoutMs, 60_000);
    const connectionTimeout = positive('connectionTimeoutMs', options.connectionTimeoutMs, 5_000);
    const maxSockets = positive('maxSockets', options.maxSockets, 50);
    const agent = { keepAlive: true, maxSockets };
    this.#bucket = options.bucket;
    this.#prefix = options.keyPrefix ?? '';
    this.description = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.#client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: positive('maxAttempts', options.maxAttempts, 2),
      requestHandler: {
        connectionTimeout,
        requestTimeout,
        throwOnRequestTimeout: true,
        httpAgent: agent,
        httpsAgent: agent,
      },
    });
  }

  #key(key: string): string {
    assertObjectKey(key);
    return `${this.#prefix}${key}`;
  }

  async put(key: string, body: Uint8Array | ObjectBody, options: PutOptions): Promise<void> {
    const objectKey = this.#key(key);
    // The SDK pipes a stream body into the request, which does not end the request when the stream
    // fails: a failing body aborts the request itself, or it would wait for the request timeout.
    const failed = new AbortController();
    const signal =
      options.signal === undefined ? failed.signal : AbortSignal.any([options.signal, failed.signal]);
    const payload =
      body instanceof Uint8Array
        ? {
            Body: body,
            ContentLength: body.byteLength,
            ContentMD5: createHash('md5').update(body).digest('base64'),
          }
        : {
            Body: streamOf(body.chunks, failed),
            ContentLength: body.size,
            ChecksumSHA256: Buffer.from(options.sha256, 'hex').toString('base64'),
          };
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: objectKey,
          ...payload,
          ContentType: options.contentType,
          Metadata: { sha256: options.sha256 },
        }),
        sendOptions(signal),
      );
    } catch (error) {
      throw s3Error('put', key, failed.signal.aborted ? failed.signal.reason : error);
    }
  }

  async head(
    key: string,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<ObjectInfo | undefined> {
    const objectKey = this.#key(key);
    try {
      const result = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: objectKey }),
        sendOptions(options?.signal),
      );
      return { size: result.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error('head', key, error);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const objectKey = this.#key(key);
    try {
      const result = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
      if (result.Body === undefined) return new Uint8Array();
      return await result.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error('get', key, error);
    }
  }

  async getStream(key: string, options?: { readonly start?: number }): Promise<Readable | undefined> {
    const objectKey = this.#key(key);
    const start = options?.start ?? 0;
    try {
      const result = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: objectKey,
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        }),
      );
      if (start > 0 && !result.ContentRange?.startsWith(`bytes ${start}-`)) {
        // A store or proxy that ignores Range answers the whole object: appended to the bytes a reader
        // already has, it would corrupt them.
        (result.Body as Readable | undefined)?.destroy();
        throw new Error(
          `asked for bytes from ${start}, answered ${result.ContentRange ?? 'the whole object'}`,
        );
      }
      // In Node the SDK's body is the HTTP response, a Readable.
      return result.Body === undefined ? Readable.from([]) : (result.Body as Readable);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error('get', key, error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }
}
