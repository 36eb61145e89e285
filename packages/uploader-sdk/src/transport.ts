import { openAsBlob } from 'node:fs';
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import {
  type BlobManifestItem,
  ErrorBodyReadSchema,
  type IngestResponseRead,
  IngestResponseReadSchema,
  type Limits,
  LimitsReadSchema,
  MANIFEST_FIELD,
  ROUTES,
  type RouteContract,
} from '@sluice/contracts';
import ky, { type KyInstance } from 'ky';
import { timerDelay } from './timers.js';

const gzipAsync = promisify(gzip);

/** How the transport talks to the ingest API. */
export interface TransportOptions {
  /** Base URL of the ingest API. */
  readonly endpoint: string;
  /** The API key (Bearer). */
  readonly apiKey: string;
  /** Bodies of at least this many bytes are gzip-compressed. */
  readonly gzipMinBytes: number;
  /**
   * A request whose answer (headers and body) is not complete after this long is abandoned (blob requests:
   * see {@link blobRequestTimeoutMs}).
   */
  readonly requestTimeoutMs: number;
  /** The slowest uplink blob requests are given time for. */
  readonly minUploadBytesPerSecond: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/** What one request produced. Exactly one of `response` (a valid 2xx body) or a failure description is set. */
export interface TransportResult {
  /** Method and absolute URL of the request, for reports. */
  readonly method: string;
  readonly url: string;
  /** HTTP status, or `undefined` when no whole response arrived (network error, timeout). */
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  /** `error.code` of an error body, or `INVALID_RESPONSE` for a 2xx whose body is not the contract's. */
  readonly code: string | undefined;
  /** The parsed body of a 2xx that answers every item. */
  readonly response: IngestResponseRead | undefined;
  /** The network error, timeout or body problem, when there is one. */
  readonly error: Error | undefined;
  /** The request ran out of time (a congestion signal). */
  readonly timedOut: boolean;
  /** Wall time of the request. */
  readonly latencyMs: number;
  /**
   * The request carried an API key that `setApiKey` has replaced since: a refusal answers that old key,
   * not the one in use now.
   */
  readonly keyReplaced?: boolean;
}

/** A blob as sent: its manifest entry and the file holding its bytes. */
export interface BlobUpload {
  readonly manifest: BlobManifestItem;
  readonly path: string;
}

/** A 2xx response whose body is not a valid ingest response for the items sent. */
export class InvalidResponseError extends Error {
  override name = 'InvalidResponseError' as const;
}

/** True when `error` is an {@link InvalidResponseError}. */
export function isInvalidResponseError(error: unknown): error is InvalidResponseError {
  return error instanceof InvalidResponseError && error.name === 'InvalidResponseError';
}

/** Most bytes read of a `GET /v1/limits` answer (a handful of integers). */
export const LIMITS_ANSWER_MAX_BYTES = 64 * 1024;

/**
 * Most bytes read of an answer to a request of `itemCount` items, decoded: a real answer has one result
 * per item (an id of up to 128 characters, a status, and for a refused item a code and a short message),
 * so 4 KiB per item, and never less than 4 MiB, leave a wide margin; an error body is far smaller. Pure.
 */
export function answerMaxBytes(itemCount: number): number {
  return Math.max(4 * 1024 * 1024, 64 * 1024 + itemCount * 4 * 1024);
}

/** The answer (headers and body) did not arrive whole within the request's timeout. */
class RequestTimeoutError extends Error {
  override name = 'TimeoutError' as const;
}

/** What came back for one request: the response, and its body unless it was larger than allowed. */
interface Exchange {
  readonly response: Response;
  /** The decoded body; `undefined` when it exceeded the bound (the rest was not read). */
  readonly text: string | undefined;
  /** Bytes the body was allowed. */
  readonly maxBytes: number;
}

/** HTTP client of the ingest API: builds bodies, sends them once, and reports what happened (never retries). */
export class Transport {
  readonly #http: KyInstance;
  #apiKey: string;

  constructor(private readonly options: TransportOptions) {
    this.#apiKey = options.apiKey;
    this.#http = ky.create({
      prefixUrl: options.endpoint,
      retry: 0,
      throwHttpErrors: false,
      // A redirect is reported, not followed: fetch would turn a POST into a GET on 301/302, and a login
      // page at the end of one would pass for the endpoint.
      redirect: 'manual',
      // ky's timeout ends once the headers arrived; `#exchange` bounds the whole answer, body included.
      timeout: false,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  #urlOf(path: string): string {
    const { endpoint } = this.options;
    return `${endpoint.endsWith('/') ? endpoint : `${endpoint}/`}${stripSlash(path)}`;
  }

  /** Replaces the API key for the following requests. */
  setApiKey(apiKey: string): void {
    this.#apiKey = apiKey;
  }

  /**
   * `POST /v1/batch` with items already serialized as JSON (each payload is one item's JSON). The body is
   * assembled from the bytes as they are, without parsing them again.
   */
  async sendRecords(payloads: readonly Uint8Array[], signal?: AbortSignal): Promise<TransportResult> {
    const body = recordsBody(payloads);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let sent: Uint8Array = body;
    if (body.byteLength >= this.options.gzipMinBytes) {
      sent = await gzipAsync(body, { level: zlibConstants.Z_BEST_SPEED });
      headers['content-encoding'] = 'gzip';
    }
    return this.#send(ROUTES.batch, { body: sent, headers }, payloads.length, signal);
  }

  /**
   * `POST /v1/blobs`: the manifest part, then one file part per blob, streamed from disk; its timeout grows
   * with its bytes ({@link blobRequestTimeoutMs}).
   */
  async sendBlobs(blobs: readonly BlobUpload[], signal?: AbortSignal): Promise<TransportResult> {
    const form = new FormData();
    const manifest = JSON.stringify({ items: blobs.map((blob) => blob.manifest) });
    form.append(MANIFEST_FIELD, manifest);
    let bytes = Buffer.byteLength(manifest);
    for (const blob of blobs) {
      form.append(
        blob.manifest.id,
        await openAsBlob(blob.path, { type: blob.manifest.contentType }),
        blob.manifest.id,
      );
      bytes += blob.manifest.size;
    }
    const timeoutMs = blobRequestTimeoutMs(bytes, this.options);
    return this.#send(ROUTES.blobs, { body: form, headers: {}, timeoutMs }, blobs.length, signal);
  }

  /** `GET /v1/limits`; `undefined` when the server cannot be asked or answers something else. */
  async fetchLimits(signal?: AbortSignal): Promise<Limits | undefined> {
    try {
      const { response, text } = await this.#exchange(
        ROUTES.limits,
        { headers: {} },
        this.#apiKey,
        this.options.requestTimeoutMs,
        LIMITS_ANSWER_MAX_BYTES,
        signal,
      );
      if (!response.ok || text === undefined) return undefined;
      const parsed = LimitsReadSchema.safeParse(parseJson(text));
      return parsed.success ? parsed.data : undefined;
    } catch (error) {
      if (signal?.aborted) throw error;
      // Unreachable, too slow or unreadable: the caller keeps the contract's default limits and asks again later.
      return undefined;
    }
  }

  /**
   * Sends one request with `apiKey` and reads its answer, all within `timeoutMs` (a
   * {@link RequestTimeoutError} after it), reading at most `maxBytes` of body: past them the rest is not
   * read and the connection is let go.
   */
  async #exchange(
    route: Pick<RouteContract, 'method' | 'path'>,
    init: { body?: Uint8Array | FormData; headers: Record<string, string> },
    apiKey: string,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<Exchange> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new RequestTimeoutError(
            `${route.method} ${this.#urlOf(route.path)}: no whole answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    try {
      const response = await this.#http(stripSlash(route.path), {
        method: route.method,
        ...(init.body === undefined ? {} : { body: init.body }),
        headers: { ...init.headers, authorization: `Bearer ${apiKey}` },
        signal: signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]),
      });
      const text = await readText(response, maxBytes);
      return { response, text, maxBytes };
    } catch (error) {
      // fetch rejects with the abort's reason, or with its own error when the body stream broke on it.
      if (deadline.signal.aborted && !signal?.aborted) throw deadline.signal.reason;
      throw error;
    } finally {
      // Not aborted once settled: a body read past its bound was cancelled by `readText`, and aborting a
      // request that failed (connection refused) while fetch still reads its multipart body from disk
      // makes fetch enqueue into the cancelled body stream and throw out of the process.
      clearTimeout(timer);
    }
  }

  async #send(
    route: Pick<RouteContract, 'method' | 'path'>,
    init: { body: Uint8Array | FormData; headers: Record<string, string>; timeoutMs?: number },
    itemCount: number,
    signal: AbortSignal | undefined,
  ): Promise<TransportResult> {
    const startedAt = performance.now();
    const elapsed = (): number => performance.now() - startedAt;
    const request = { method: route.method, url: this.#urlOf(route.path) };
    const apiKey = this.#apiKey;
    const keyReplaced = (): boolean => this.#apiKey !== apiKey;
    let exchange: Exchange;
    try {
      exchange = await this.#exchange(
        route,
        init,
        apiKey,
        init.timeoutMs ?? this.options.requestTimeoutMs,
        answerMaxBytes(itemCount),
        signal,
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      const timedOut = error instanceof RequestTimeoutError;
      return {
        ...request,
        status: undefined,
        headers: undefined,
        code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
        response: undefined,
        error: error as Error,
        timedOut,
        latencyMs: elapsed(),
        keyReplaced: keyReplaced(),
      };
    }
    const { response, text, maxBytes } = exchange;
    const base = {
      ...request,
      status: response.status,
      headers: response.headers,
      timedOut: false,
      latencyMs: elapsed(),
      keyReplaced: keyReplaced(),
    };
    if (text === undefined) {
      // Larger than any answer of the API can be: whatever sent it, it is not the API's answer.
      const tooLarge = `body is larger than ${maxBytes} bytes, more than any ingest API answer`;
      return response.ok
        ? {
            ...base,
            code: 'INVALID_RESPONSE',
            response: undefined,
            error: new InvalidResponseError(`response ${tooLarge}`),
          }
        : {
            ...base,
            code: undefined,
            response: undefined,
            error: new Error(`HTTP ${response.status}; ${tooLarge}`),
          };
    }
    const json = parseJson(text);
    if (response.ok) {
      const parsed = IngestResponseReadSchema.safeParse(json);
      if (parsed.success && parsed.data.results.length === itemCount) {
        return { ...base, code: undefined, response: parsed.data, error: undefined };
      }
      return {
        ...base,
        code: 'INVALID_RESPONSE',
        response: undefined,
        error: new InvalidResponseError(
          parsed.success
            ? `response has ${parsed.data.results.length} results for ${itemCount} items`
            : 'response body is not an ingest response',
          parsed.success ? undefined : { cause: parsed.error },
        ),
      };
    }
    const errorBody = ErrorBodyReadSchema.safeParse(json);
    return {
      ...base,
      code: errorBody.success ? errorBody.data.error.code : undefined,
      response: undefined,
      error: new Error(errorBody.success ? errorBody.data.error.message : `HTTP ${response.status}`),
    };
  }
}

/**
 * Timeout of a blob request of `bytes`: `requestTimeoutMs` plus the time the bytes take at
 * `minUploadBytesPerSecond`, at most what a timer can hold. Pure.
 */
export function blobRequestTimeoutMs(
  bytes: number,
  options: Pick<TransportOptions, 'requestTimeoutMs' | 'minUploadBytesPerSecond'>,
): number {
  return timerDelay(options.requestTimeoutMs + Math.ceil((bytes * 1000) / options.minUploadBytesPerSecond));
}

/** The JSON body `{"items":[…]}` from serialized items. */
export function recordsBody(payloads: readonly Uint8Array[]): Uint8Array {
  const head = Buffer.from('{"items":[');
  const tail = Buffer.from(']}');
  const comma = Buffer.from(',');
  const parts: Uint8Array[] = [head];
  payloads.forEach((payload, index) => {
    if (index > 0) parts.push(comma);
    parts.push(payload);
  });
  parts.push(tail);
  return Buffer.concat(parts);
}

/**
 * The decoded body as UTF-8 text, or `undefined` once it exceeds `maxBytes` (reading stops there and the
 * rest is cancelled).
 */
export async function readText(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      reader.cancel().catch(() => {
        // The connection is going away anyway.
      });
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, bytes));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the caller reports the body as invalid (a 2xx) or goes by the status alone.
    return undefined;
  }
}

function stripSlash(path: string): string {
  return path.startsWith('/') ? path.slice(1) : path;
}
