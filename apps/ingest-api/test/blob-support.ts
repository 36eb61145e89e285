import { createHash, randomBytes } from 'node:crypto';
import type { BlobManifestItem, IngestResponse } from '@sluice/contracts';
import type { TestServer } from '../src/testing.js';

/** What these helpers need of a server. */
export type Server = Pick<TestServer, 'url' | 'apiKey' | 'query'>;

/** A blob to send: its manifest entry (computed from `bytes` unless overridden) and its bytes. */
export interface BlobToSend {
  readonly item: BlobManifestItem;
  readonly bytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let counter = 0;

/** A blob with random bytes (or the given ones) and a matching manifest entry. */
export function makeBlob(
  options: { bytes?: Uint8Array; size?: number; id?: string; meta?: Record<string, string> } = {},
) {
  const bytes = options.bytes ?? randomBytes(options.size ?? 1024);
  counter += 1;
  const item: BlobManifestItem = {
    id: options.id ?? `blob-${process.pid}-${Date.now()}-${counter}`,
    type: 'screenshot',
    ts: 1_766_557_428_498 + counter,
    contentType: 'image/png',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    ...(options.meta === undefined ? {} : { meta: options.meta }),
  };
  return { item, bytes } satisfies BlobToSend;
}

/** One part of a hand-built multipart body. */
export type Part =
  /** A field; `encoding` writes `value` in another encoding than UTF-8 (bytes a client might send). */
  | { readonly name: string; readonly value: string; readonly encoding?: BufferEncoding }
  | { readonly name: string; readonly bytes: Uint8Array };

/** The usual parts: the manifest of `blobs`, then each blob's bytes under its id. */
export function partsFor(blobs: readonly BlobToSend[]): Part[] {
  return [
    { name: 'manifest', value: JSON.stringify({ items: blobs.map((blob) => blob.item) }) },
    ...blobs.map((blob) => ({ name: blob.item.id, bytes: blob.bytes })),
  ];
}

export interface Sent<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A multipart/form-data body of `parts`, in the given order, and its content type. */
export function multipartBody(parts: readonly Part[]): { body: Buffer; contentType: string } {
  const boundary = `----sluice${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n`),
      );
      chunks.push(Buffer.from(part.value, part.encoding ?? 'utf8'));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.name}.bin"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        ),
      );
      chunks.push(Buffer.from(part.bytes));
    }
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * POSTs `parts` as multipart/form-data to `/v1/blobs`, in the given order; `chunked` streams the body
 * without a Content-Length.
 */
export async function postBlobs<T = IngestResponse>(
  server: Server,
  parts: readonly Part[],
  options: { headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Sent<T>> {
  const { body, contentType } = multipartBody(parts);
  const headers = {
    authorization: `Bearer ${server.apiKey}`,
    'content-type': contentType,
    ...options.headers,
  };
  const init: RequestInit & { duplex?: 'half' } = options.chunked
    ? {
        method: 'POST',
        headers,
        duplex: 'half',
        body: new ReadableStream({
          start(controller) {
            for (let offset = 0; offset < body.length; offset += 16 * 1024) {
              controller.enqueue(new Uint8Array(body.subarray(offset, offset + 16 * 1024)));
            }
            controller.close();
          },
        }),
      }
    : { method: 'POST', headers, body };
  const response = await fetch(`${server.url}/v1/blobs`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** Rows that make up stored blobs: items, blob rows and staged byte rows. */
export async function rowCounts(server: Pick<Server, 'query'>) {
  const [row] = await server.query<{ items: number; blobs: number; staged: number }>(
    `select (select count(*) from items)::int as items, (select count(*) from blobs)::int as blobs,
            (select count(*) from blob_staging)::int as staged`,
  );
  return row!;
}

/** Polls `check` every 25 ms until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Blob rows by state. */
export async function blobStates(server: Pick<Server, 'query'>): Promise<Record<string, number>> {
  const rows = await server.query<{ state: string; count: number }>(
    'select state, count(*)::int as count from blobs group by state',
  );
  return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
}
