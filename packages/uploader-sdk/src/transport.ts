import { openAsBlob } from 'node:fs';
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import {
  type BlobManifestItem,
  ErrorBodySchema,
  type IngestResponse,
  IngestResponseSchema,
  type Limits,
  LimitsSchema,
  MANIFEST_FIELD,
  ROUTES,
  type RouteContract,
} from '@sluice/contracts';
import ky, { isTimeoutError, type KyInstance } from 'ky';
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
  /** A request without a response after this long is abandoned (blob requests: see {@link blobRequestTimeoutMs}). */
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
  /** HTTP status, or `undefined` when no response arrived (network error, timeout). */
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  /** `error.code` of an error body, or `INVALID_RESPONSE` for a 2xx whose body is not the contract's. */
  readonly code: string | undefined;
  /** The parsed body of a 2xx that answers every item. */
  readonly response: IngestResponse | undefined;
  /** The network error, timeout or body problem, when there is one. */
  readonly error: Error | undefined;
  /** The request ran out of time (a congestion signal). */
  readonly timedOut: boolean;
  /** Wall time of the request. */
  readonly latencyMs: number;
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
      timeout: options.requestTimeoutMs,
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
    let bytes = manifest.length;
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
      const response = await this.#http(stripSlash(ROUTES.limits.path), {
        method: ROUTES.limits.method,
        headers: { authorization: `Bearer ${this.#apiKey}` },
        ...(signal === undefined ? {} : { signal }),
      });
      if (!response.ok) return undefined;
      const parsed = LimitsSchema.safeParse(await response.json());
      return parsed.success ? parsed.data : undefined;
    } catch (error) {
      if (signal?.aborted) throw error;
      // Unreachable or unreadable: the caller keeps the contract's default limits and asks again later.
      return undefined;
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
    let response: Response;
    let text: string;
    try {
      response = await this.#http(stripSlash(route.path), {
        method: route.method,
        body: init.body,
        headers: { ...init.headers, authorization: `Bearer ${this.#apiKey}` },
        ...(init.timeoutMs === undefined ? {} : { timeout: init.timeoutMs }),
        ...(signal === undefined ? {} : { signal }),
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      return {
        ...request,
        status: undefined,
        headers: undefined,
        code: isTimeoutError(error) ? 'TIMEOUT' : 'NETWORK_ERROR',
        response: undefined,
        error: error as Error,
        timedOut: isTimeoutError(error),
        latencyMs: elapsed(),
      };
    }
    const base = {
      ...request,
      status: response.status,
      headers: response.headers,
      timedOut: false,
      latencyMs: elapsed(),
    };
    const json = parseJson(text);
    if (response.ok) {
      const parsed = IngestResponseSchema.safeParse(json);
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
    const errorBody = ErrorBodySchema.safeParse(json);
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
