import { gzipSync } from 'node:zlib';
import type { IngestResponse, RecordItem } from '@sluice/contracts';
import type { TestServer } from '../../src/testing.js';

/** What these helpers need of a server. */
export type Server = Pick<TestServer, 'url' | 'apiKey' | 'source' | 'query'>;

export interface Sent<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** POSTs a batch body (object → JSON, string/Buffer as is) with the server's key unless told otherwise. */
export async function postBatch<T = IngestResponse>(
  server: Server,
  body: unknown,
  options: {
    key?: string | null;
    contentType?: string;
    gzip?: boolean;
    headers?: Record<string, string>;
  } = {},
): Promise<Sent<T>> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    ...options.headers,
  };
  const key = options.key === undefined ? server.apiKey : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | Buffer =
    typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  if (options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  const response = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers, body: payload });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** GETs a path with the server's key. */
export async function get<T = unknown>(
  server: Server,
  path: string,
  key: string | null = server.apiKey,
): Promise<Sent<T>> {
  const response = await fetch(
    `${server.url}${path}`,
    key === null ? {} : { headers: { authorization: `Bearer ${key}` } },
  );
  return sent<T>(response);
}

/** An answer with its body parsed as JSON when it is JSON, else as text (metrics, blob bytes, streams). */
export async function sent<T>(response: Response): Promise<Sent<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** A record with a given id and data. */
export function record(
  id: string,
  data: RecordItem['data'] = { n: id },
  type = 'click',
  ts = 1_766_557_428_498,
): RecordItem {
  return { id, type, ts, data };
}

/** Rows of the items table of a source, by id. */
export async function storedItems(server: Server, source = server.source) {
  return server.query<{ id: string; hash: string; data: unknown; type: string; ts: string | number }>(
    'select id, hash, data, type, ts from items where source = $1 order by id',
    [source],
  );
}
