import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { RateLimitedError, RequestError } from '../errors.js';

/** Every source's request bodies together hold the whole budget; retry in a moment. */
export class ServerBusyError extends RequestError {
  override name = 'ServerBusyError' as const;
  readonly code = 'UNAVAILABLE' as const;
  override readonly retryAfterSeconds = 1;
}

/**
 * Decoded bytes of request bodies this process holds, from their first byte until their request is done
 * (answered, or its handler finished if the client left first): what parsing and checking them keep in
 * memory. The request rate limit alone does not bound it: a gzip body of 12 KB decodes to a whole
 * `MAX_BATCH_BYTES`, and one source sending hundreds at once held gigabytes and stalled every other
 * source. Past `perSourceBytes` a source's request is refused with 429 (its own excess), past
 * `totalBytes` with 503 (the server is busy): both retryable, nothing of the request is stored.
 */
export class BodyBudget {
  readonly totalBytes: number;
  readonly perSourceBytes: number;
  #held = 0;
  readonly #bySource = new Map<string, number>();

  constructor(totalBytes: number, perSourceBytes: number) {
    this.totalBytes = totalBytes;
    this.perSourceBytes = perSourceBytes;
  }

  /** Bytes held now, by every source. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Bytes held now by `source`. */
  heldBy(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /**
   * Holds `bytes` more for `source`.
   * @throws {RateLimitedError} past the source's share. @throws {ServerBusyError} past the total.
   */
  take(source: string, bytes: number): void {
    const mine = this.heldBy(source);
    if (mine + bytes > this.perSourceBytes) {
      throw new RateLimitedError(
        `source ${source} has ${mine} bytes of request bodies in progress; at most ${this.perSourceBytes} at once`,
        1,
      );
    }
    if (this.#held + bytes > this.totalBytes) {
      throw new ServerBusyError(
        `the server holds ${this.#held} bytes of request bodies in progress; at most ${this.totalBytes} at once`,
      );
    }
    this.#bySource.set(source, mine + bytes);
    this.#held += bytes;
  }

  /** Gives back `bytes` that `source` held. */
  give(source: string, bytes: number): void {
    if (bytes === 0) return;
    const left = this.heldBy(source) - bytes;
    if (left > 0) this.#bySource.set(source, left);
    else this.#bySource.delete(source);
    this.#held -= bytes;
  }
}

/** What one request holds of a {@link BodyBudget}. */
interface Hold {
  readonly budget: BodyBudget;
  readonly source: string;
  bytes: number;
  /** Its handler started: only its end (not the client leaving) gives the bytes back. */
  handling: boolean;
  /**
   * Given back: bytes still arriving (the request was answered before its body was read, a 413 on its
   * `Content-Length`) pass through uncounted, or they would be taken for good.
   */
  released: boolean;
}

const holds = new WeakMap<FastifyRequest, Hold>();

/** Counts the bytes passing through against the request's hold; fails the body past the budget. */
class BudgetMeter extends Transform {
  readonly #hold: Hold;
  readonly #source: NodeJS.ReadableStream & { receivedEncodedLength?: number };

  constructor(hold: Hold, source: NodeJS.ReadableStream & { receivedEncodedLength?: number }) {
    super();
    this.#hold = hold;
    this.#source = source;
  }

  /** What a decoding stream before it read from the request, which Fastify checks against `Content-Length`. */
  get receivedEncodedLength(): number | undefined {
    return this.#source.receivedEncodedLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#hold.released) {
      callback(null, chunk);
      return;
    }
    try {
      this.#hold.budget.take(this.#hold.source, chunk.length);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#hold.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * `body` (already decoded) measured against `budget` for the request's source. The bytes are held until
 * {@link releaseBody}: the route calls it when its handler ends, and its `onResponse` and
 * `onRequestAbort` hooks for requests that never reached the handler.
 */
export function meterBody(
  budget: BodyBudget,
  request: FastifyRequest,
  body: NodeJS.ReadableStream,
): NodeJS.ReadableStream {
  const hold: Hold = { budget, source: request.source, bytes: 0, handling: false, released: false };
  holds.set(request, hold);
  const meter = new BudgetMeter(hold, body);
  body.on('error', (error) => meter.destroy(error));
  meter.on('error', () => body.unpipe(meter));
  return body.pipe(meter);
}

/** Marks the request's handler as started: from now on only {@link releaseBody} with `ended` frees it. */
export function bodyHandled(request: FastifyRequest): void {
  const hold = holds.get(request);
  if (hold !== undefined) hold.handling = true;
}

/**
 * Gives back what the request holds. `ended`: its handler is done (or never ran: the request was answered
 * or abandoned before it); otherwise (the client left while the handler runs) nothing is freed yet.
 */
export function releaseBody(request: FastifyRequest, ended: boolean): void {
  const hold = holds.get(request);
  if (hold === undefined || (hold.handling && !ended)) return;
  holds.delete(request);
  hold.released = true;
  hold.budget.give(hold.source, hold.bytes);
  hold.bytes = 0;
}
