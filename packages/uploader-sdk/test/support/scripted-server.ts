import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { countStatuses, type IngestResponse } from '@sluice/contracts';

/** A request as the scripted server received it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The body, gunzipped when it was sent with `content-encoding: gzip`. */
  readonly body: Buffer;
  /** Bytes on the wire. */
  readonly wireBytes: number;
  /** `performance.now()` when the request arrived. */
  readonly at: number;
}

/** Answers one request; may write anything, or destroy the socket. */
export type ScriptedHandler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1:0 whose answers a test scripts. */
export interface ScriptedServer {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  handler: ScriptedHandler;
  close(): Promise<void>;
}

/** Sends a JSON body with a status and extra headers. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Starts a scripted server; `handler` can be replaced at any time. */
export async function startScriptedServer(handler: ScriptedHandler): Promise<ScriptedServer> {
  const requests: ReceivedRequest[] = [];
  const state = { handler };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        wireBytes: raw.byteLength,
        at: performance.now(),
      };
      requests.push(received);
      Promise.resolve(state.handler(received, res)).catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get handler() {
      return state.handler;
    },
    set handler(next: ScriptedHandler) {
      state.handler = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The ids of the items of a `POST /v1/batch` body as it was received. */
export function batchIds(request: ReceivedRequest): string[] {
  return (JSON.parse(request.body.toString()) as { items: { id: string }[] }).items.map((item) => item.id);
}

/**
 * The API's answer to a batch of `ids` for a server that stores each id once: `stored` the first time,
 * `duplicate` after; `stored` counts how often each id arrived.
 */
export function storeOnce(ids: readonly string[], stored: Map<string, number>): IngestResponse {
  const results = ids.map((id) => ({
    id,
    status: stored.has(id) ? ('duplicate' as const) : ('stored' as const),
  }));
  for (const id of ids) stored.set(id, (stored.get(id) ?? 0) + 1);
  return { results, counts: countStatuses(results) };
}
