import {
  ADMIN_PATHS,
  type AdminItem,
  AdminItemSchema,
  type BlobOverview,
  BlobOverviewSchema,
  type CreatedKey,
  CreatedKeySchema,
  ErrorBodySchema,
  type FailedBlobPage,
  FailedBlobPageSchema,
  type ItemPage,
  ItemPageSchema,
  type Rates,
  RatesSchema,
  type RetriedBlobs,
  RetriedBlobsSchema,
  type RetryBlobsRequest,
  type RevokedKey,
  RevokedKeySchema,
  type SourceList,
  SourceListSchema,
} from '@sluice/contracts';
import type { z } from 'zod';

/** A failed admin API call: the HTTP status and, when the body had one, the contract's error code. */
export class ApiError extends Error {
  override name = 'ApiError' as const;
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True when `error` is an {@link ApiError} for a refused admin key. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

/** Fills `:name` placeholders of an `ADMIN_PATHS` entry, percent-encoding each value. */
export function adminPath(template: string, params: Readonly<Record<string, string>> = {}): string {
  return template.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`Missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** Query string of the defined values of `query`, with a leading `?` when not empty. */
export function queryString(query: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = ErrorBodySchema.safeParse(JSON.parse(text));
    if (body.success) return new ApiError(response.status, body.data.error.code, body.data.error.message);
  } catch {
    // Not JSON (a proxy's page, say): the status line says enough.
  }
  return new ApiError(response.status, undefined, `HTTP ${response.status} ${response.statusText}`.trim());
}

/** The admin API, authenticated with one admin key. Every JSON answer is checked against its contract schema. */
export class AdminClient {
  constructor(
    readonly adminKey: string,
    private readonly baseUrl = '',
  ) {}

  /** Headers every admin request carries. */
  headers(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.adminKey}`, ...extra };
  }

  /** A raw authenticated request; throws {@link ApiError} unless the answer is 2xx. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: this.headers(init.headers as Record<string, string> | undefined),
      cache: 'no-store',
    });
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  private async json<T>(schema: z.ZodType<T>, path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init);
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success) {
      throw new ApiError(response.status, undefined, `Unexpected answer from ${path}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  private post<T>(schema: z.ZodType<T>, path: string, body: unknown): Promise<T> {
    return this.json(schema, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  sources(): Promise<SourceList> {
    return this.json(SourceListSchema, ADMIN_PATHS.sources);
  }

  createSource(name: string): Promise<CreatedKey> {
    return this.post(CreatedKeySchema, ADMIN_PATHS.sources, { name });
  }

  revokeKey(keyId: string): Promise<RevokedKey> {
    return this.post(RevokedKeySchema, adminPath(ADMIN_PATHS.revokeKey, { keyId }), {});
  }

  items(query: Readonly<Record<string, string | number | undefined>>): Promise<ItemPage> {
    return this.json(ItemPageSchema, `${ADMIN_PATHS.items}${queryString(query)}`);
  }

  item(source: string, id: string): Promise<AdminItem> {
    return this.json(AdminItemSchema, adminPath(ADMIN_PATHS.item, { source, id }));
  }

  /** A blob's bytes, typed as `contentType` (the caller decides which types it shows). */
  async itemBytes(source: string, id: string, contentType: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.fetch(
      adminPath(ADMIN_PATHS.itemBytes, { source, id }),
      signal ? { signal } : {},
    );
    return new Blob([await response.arrayBuffer()], { type: contentType });
  }

  blobs(): Promise<BlobOverview> {
    return this.json(BlobOverviewSchema, ADMIN_PATHS.blobs);
  }

  failedBlobs(cursor?: string): Promise<FailedBlobPage> {
    return this.json(FailedBlobPageSchema, `${ADMIN_PATHS.failedBlobs}${queryString({ cursor, limit: 50 })}`);
  }

  retryBlobs(request: RetryBlobsRequest): Promise<RetriedBlobs> {
    return this.post(RetriedBlobsSchema, ADMIN_PATHS.retryBlobs, request);
  }

  rates(): Promise<Rates> {
    return this.json(RatesSchema, ADMIN_PATHS.rates);
  }
}
