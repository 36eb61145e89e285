import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { preParsingHookHandler } from 'fastify';
import { InvalidBatchError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import { type BodyBudget, meterBody } from './body-budget.js';

/** Passes bytes through until more than `limit` have gone by, then fails with {@link PayloadTooLargeError}. */
class ByteCap extends Transform {
  readonly #limit: number;
  #seen = 0;
  /** Encoded bytes read from the request, which Fastify checks against `Content-Length`. */
  receivedEncodedLength = 0;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) {
      callback(new PayloadTooLargeError(`decoded body exceeds ${this.#limit} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * A `preParsing` hook accepting `Content-Encoding: gzip` (or none/identity). The decoded body is
 * capped at `maxDecodedBytes`: inflation stops and the request gets 413 as soon as the cap is
 * passed, so a gzip bomb costs at most the cap. Corrupt gzip is 400, other encodings 415. With a
 * `budget`, the decoded bytes are held against it (see {@link meterBody}).
 */
export function decodeBody(maxDecodedBytes: number, budget?: BodyBudget): preParsingHookHandler {
  return async (request, _reply, payload) => {
    const decoded = decode(request.headers['content-encoding'], maxDecodedBytes, payload);
    return budget === undefined ? decoded : meterBody(budget, request, decoded);
  };
}

function decode(
  contentEncoding: string | undefined,
  maxDecodedBytes: number,
  payload: NodeJS.ReadableStream,
): NodeJS.ReadableStream {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${encoding} is not supported; use gzip or none`);
  }
  const gunzip = createGunzip();
  const cap = new ByteCap(maxDecodedBytes);
  payload.on('data', (chunk: Buffer) => {
    cap.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (error) => cap.destroy(error));
  gunzip.on('error', (error) =>
    cap.destroy(new InvalidBatchError('body is not valid gzip', { cause: error })),
  );
  cap.on('error', () => {
    payload.unpipe(gunzip);
    gunzip.destroy();
  });
  payload.pipe(gunzip).pipe(cap);
  return cap;
}
