/**
 * Starts an HTTP server on 127.0.0.1 for client benchmarks: `GET /v1/limits` answers `limits`; every POST
 * body (gunzipped when sent with `Content-Encoding: gzip`) is parsed as JSON and handed to `answer(path, body)`,
 * whose `[status, body]` is sent back as JSON. Anything else is a 404.
 */
export declare function startJsonServer(
  limits: unknown,
  answer: (path: string, body: unknown) => readonly [number, unknown],
): Promise<{ readonly url: string; close(): Promise<void> }>;

/** The answer of a server that stores nothing and calls every item `stored`. */
export declare function allStored(items: readonly { readonly id: string }[]): unknown;

/**
 * A server answering every `POST /v1/batch` item `stored` (and `GET /v1/limits` with `limits`) in a child
 * process of its own, so that a client benchmark measures the client alone; `close()` stops the process.
 */
export declare function startStoredServerProcess(
  limits: unknown,
): Promise<{ readonly url: string; close(): Promise<void> }>;
