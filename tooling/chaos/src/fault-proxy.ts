import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Random } from './random.js';
import { CLIENT_MIN_UPLOAD_BYTES_PER_SECOND, CLIENT_REQUEST_TIMEOUT_MS } from './uploader-options.js';

/** What the proxy does with one request. */
export type ProxyFault =
  /** Passed through untouched. */
  | 'forward'
  /** Forwarded; the server's whole answer is read (it has committed), then the client's socket is destroyed. */
  | 'drop-response'
  /** The client's connection is reset before anything is forwarded. */
  | 'reset-before'
  /** Forwarded, then both connections are reset a few ms later, before or after the server committed. */
  | 'reset-during'
  /** Forwarded; the answer is held back beyond the client's timeout, so the client gives up and resends. */
  | 'latency-spike';

/** Chances of each fault per request; the rest is forwarded. */
export const PROXY_FAULT_RATES = {
  'drop-response': 0.1,
  'reset-before': 0.025,
  'reset-during': 0.025,
  'latency-spike': 0.03,
} as const;

export interface ChaosProxy {
  readonly url: string;
  /** Requests per fault kind so far. */
  readonly counts: Record<ProxyFault, number>;
  close(): Promise<void>;
}

function decide(random: Random): ProxyFault {
  let r = random.next();
  for (const [fault, rate] of Object.entries(PROXY_FAULT_RATES) as [ProxyFault, number][]) {
    if (r < rate) return fault;
    r -= rate;
  }
  return 'forward';
}

/** Longer than the client waits for this request (records: 5 s; blobs: 5 s plus their bytes at 64 KiB/s). */
function spikeMs(req: IncomingMessage, random: Random): number {
  const length = Number(req.headers['content-length'] ?? 600_000);
  const bytes = Number.isFinite(length) ? length : 600_000;
  return (
    CLIENT_REQUEST_TIMEOUT_MS + (bytes / CLIENT_MIN_UPLOAD_BYTES_PER_SECOND) * 1000 + random.int(1000, 3000)
  );
}

/**
 * An HTTP proxy on 127.0.0.1 in front of several API processes. Each request goes to a random upstream
 * and gets a random {@link ProxyFault}, both drawn from `random` (seeded). A request to an upstream that
 * is down is reset, as a load balancer without health checks would.
 */
export async function startChaosProxy(upstreamPorts: readonly number[], random: Random): Promise<ChaosProxy> {
  const counts: Record<ProxyFault, number> = {
    forward: 0,
    'drop-response': 0,
    'reset-before': 0,
    'reset-during': 0,
    'latency-spike': 0,
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const fault = decide(random);
    const port = random.pick(upstreamPorts);
    const delay = fault === 'latency-spike' ? spikeMs(req, random) : 0;
    const resetAfter = fault === 'reset-during' ? random.int(0, 60) : 0;
    counts[fault]++;
    const clientSocket = req.socket;
    if (fault === 'reset-before') {
      clientSocket.resetAndDestroy();
      return;
    }
    const forwarded = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        if (fault === 'drop-response') {
          answer.resume();
          answer.on('end', () => clientSocket.resetAndDestroy());
          return;
        }
        const pass = (): void => {
          if (clientSocket.destroyed) {
            answer.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (delay > 0) later(delay, pass);
        else pass();
      },
    );
    forwarded.on('error', () => clientSocket.resetAndDestroy());
    req.on('close', () => {
      if (!req.complete) forwarded.destroy();
    });
    req.pipe(forwarded);
    if (fault === 'reset-during') {
      later(resetAfter, () => {
        forwarded.destroy();
        clientSocket.resetAndDestroy();
      });
    }
  };

  const server: Server = createServer(handle);
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
