import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type ProxyAction =
  /**
   * Forwards; with `delayMs`, holds the server's answer back that long before passing it on; with
   * `bytesPerSecond`, reads the client's body no faster than that (a slow uplink); with `cutAfterBytes`,
   * closes the connection without an answer once the body has passed that many bytes (a server or proxy
   * whose time limit a request too large for the uplink runs into).
   */
  | {
      readonly kind: 'forward';
      readonly delayMs?: number;
      readonly bytesPerSecond?: number;
      readonly cutAfterBytes?: number;
    }
  /** Forwards, lets the server commit, then destroys the client's socket instead of answering. */
  | { readonly kind: 'drop-response' }
  /** Answers itself without forwarding. */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Record<string, string>;
    };

/** One request that passed the proxy. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  /** `performance.now()` when it arrived. */
  readonly at: number;
  readonly action: ProxyAction['kind'];
}

/** A real HTTP proxy in front of a server, scripted per request; it can go down and come back on its port. */
export interface FaultProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  decide: (request: IncomingMessage) => ProxyAction;
  /** Closes the port and every connection (clients see connection refused). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** The answer a scripted request error gets, in the contract's error body. */
export function errorAnswer(status: number, code: string, headers: Record<string, string> = {}): ProxyAction {
  return {
    kind: 'respond',
    status,
    body: { error: { code, message: code, retryable: status >= 429 } },
    headers,
  };
}

/** Starts a proxy on 127.0.0.1 forwarding to `target` (an `http://host:port` URL). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const state: { decide: (request: IncomingMessage) => ProxyAction } = {
    decide: () => ({ kind: 'forward' }),
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const action = state.decide(req);
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      at: performance.now(),
      action: action.kind,
    });
    if (action.kind === 'respond') {
      req.resume();
      const text = JSON.stringify(action.body);
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      res.end(text);
      return;
    }
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        if (action.kind === 'drop-response') {
          // Read the whole answer first: the server has committed; the client never learns it.
          upstreamResponse.resume();
          upstreamResponse.on('end', () => res.socket?.destroy());
          return;
        }
        const answer = (): void => {
          res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(res);
        };
        if (action.kind === 'forward' && action.delayMs !== undefined) setTimeout(answer, action.delayMs);
        else answer();
      },
    );
    forwarded.on('error', () => res.socket?.destroy());
    const cutAfterBytes = action.kind === 'forward' ? action.cutAfterBytes : undefined;
    if (cutAfterBytes !== undefined) {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.byteLength;
        if (seen <= cutAfterBytes) return;
        forwarded.destroy();
        req.socket.destroy();
      });
    }
    const bytesPerSecond = action.kind === 'forward' ? action.bytesPerSecond : undefined;
    if (bytesPerSecond === undefined) {
      req.pipe(forwarded);
      return;
    }
    req.on('data', (chunk: Buffer) => {
      req.pause();
      forwarded.write(chunk);
      setTimeout(() => req.resume(), (chunk.byteLength / bytesPerSecond) * 1000);
    });
    req.on('end', () => forwarded.end());
    // A client that gave up must not leave the server waiting for the rest of the body.
    req.on('close', () => {
      if (!req.complete) forwarded.destroy();
    });
  };

  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const next = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  const down = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    current.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      current.close((error) => (error ? reject(error) : resolve())),
    );
  };
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    requests,
    get decide() {
      return state.decide;
    },
    set decide(next) {
      state.decide = next;
    },
    down,
    up: listen,
    close: down,
  };
}
