// The SDK against two analytics SDKs on the same workload and the same server (issue 12, target 2):
// one in-process HTTP server accepts Sluice's `POST /v1/batch` (every item answered `stored`, as
// packages/uploader-sdk/bench/uploader.ts's in-memory server does), posthog-node's `POST /batch/` and
// @segment/analytics-node's `POST /v1/batch` (answered 200), gunzips what comes gzipped and counts the events.
// Each client runs in its own child process (so its RSS is its own): 256 producers send N events of the
// same ~200-byte payload as bench/uploader.ts, in batches of 500 for all three; events/s from the first
// enqueue to the last event acknowledged (the client's flush done), and the child's peak RSS (maxRSS).
// Sluice runs on default options (durability 'fsync': every enqueue is on disk before it resolves); the
// peers' queues are in memory. Settings for the peers (only what the workload needs to be the same):
// - posthog-node: flushAt 500, maxBatchSize 500, maxQueueSize N (its default 1,000 drops events when the
//   producers outrun the sender), flushInterval 200 ms (Sluice's maxBatchDelayMs), gzip left on (default;
//   Sluice also gzips by default);
// - @segment/analytics-node: maxEventsInBatch 500, flushInterval 200 ms; it sends uncompressed (no option).
// Retries are left at their defaults: the server answers every request 200, so a retry only happens after
// a client's own request timeout; events the server then gets twice count in `received`, not in the rate
// (events/s is N distinct events over the time).
// Target: Sluice ≥ 3 × the faster peer.
// Usage: tsx src/sdk-vs-peers.ts [--events 100000]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatNumber, reportFigure } from '@sluice/bench-report';
import { allStored, startJsonServer } from '@sluice/bench-report/json-server';
import { API_PATHS, DEFAULT_LIMITS } from '@sluice/contracts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    producers: { type: 'string', default: '256' },
    client: { type: 'string' },
    url: { type: 'string' },
  },
});
const events = Number(values.events);
const producers = Number(values.producers);
const BATCH = 500;
const FLUSH_INTERVAL_MS = 200;
const payload = { user: 'u-12345', action: 'click', target: 'button#checkout', pad: 'x'.repeat(90) };

const clients = ['sluice', 'posthog-node', '@segment/analytics-node'] as const;
type Client = (typeof clients)[number];
interface ChildResult {
  readonly client: Client;
  readonly sent: number;
  readonly ms: number;
  readonly maxRssBytes: number;
}

/** `producers` loops send until `events` have been sent; resolves when all sends (enqueues) returned. */
async function produce(send: () => unknown): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < events) {
        next += 1;
        await send();
      }
    }),
  );
}

/** Child: one client sends `events` events to `url`; prints one JSON line. Each child imports only its
 * own client, so its RSS holds no other SDK. */
async function runChild(client: Client, url: string): Promise<void> {
  let started = 0;
  if (client === 'sluice') {
    const { createUploader } = await import('@sluice/uploader-sdk');
    const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-peers-'));
    try {
      const uploader = await createUploader({ endpoint: url, apiKey: 'bench', directory });
      started = performance.now();
      await produce(() => uploader.enqueue({ type: 'bench', data: payload }));
      await uploader.flush();
      const ms = performance.now() - started;
      const { delivered } = uploader.stats();
      await uploader.close();
      print({ client, sent: delivered, ms });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  } else if (client === 'posthog-node') {
    const { PostHog } = await import('posthog-node');
    const posthog = new PostHog('phc_bench', {
      host: url,
      flushAt: BATCH,
      maxBatchSize: BATCH,
      maxQueueSize: events,
      flushInterval: FLUSH_INTERVAL_MS,
      disableGeoip: true,
    });
    let errors = 0;
    posthog.on('error', () => {
      errors += 1;
    });
    let distinct = 0;
    started = performance.now();
    await produce(() =>
      posthog.capture({ distinctId: `d-${distinct++ % 1000}`, event: 'bench', properties: payload }),
    );
    await posthog.shutdown(60_000);
    const ms = performance.now() - started;
    if (errors > 0) console.error(`posthog-node reported ${errors} errors`);
    print({ client, sent: events, ms });
  } else {
    const { Analytics } = await import('@segment/analytics-node');
    const analytics = new Analytics({
      writeKey: 'bench',
      host: url,
      maxEventsInBatch: BATCH,
      flushInterval: FLUSH_INTERVAL_MS,
    });
    let errors = 0;
    analytics.on('error', () => {
      errors += 1;
    });
    let user = 0;
    started = performance.now();
    await produce(() =>
      analytics.track({ userId: `d-${user++ % 1000}`, event: 'bench', properties: payload }),
    );
    await analytics.closeAndFlush({ timeout: 60_000 });
    const ms = performance.now() - started;
    if (errors > 0) console.error(`@segment/analytics-node reported ${errors} errors`);
    print({ client, sent: events, ms });
  }
}

function print(result: Omit<ChildResult, 'maxRssBytes'>): void {
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ ...result, maxRssBytes }));
}

/** Sluice's batch endpoint (every item `stored`) and the peers' (200), counting events received. */
async function startServer(): Promise<{
  url: string;
  received: () => number;
  distinct: () => number;
  requests: () => number;
  reset(): void;
  close(): Promise<void>;
}> {
  let received = 0;
  let requests = 0;
  /** Ids of the events received, resends counted once: a resend must not hide a lost event. */
  const seen = new Set<string>();
  const server = await startJsonServer(DEFAULT_LIMITS, (path, body) => {
    const parsed = body as { items?: { id: string }[]; batch?: { uuid?: string; messageId?: string }[] };
    if (path === API_PATHS.batch && parsed.items) {
      // Sluice
      received += parsed.items.length;
      for (const { id } of parsed.items) seen.add(id);
      requests += 1;
      return [200, allStored(parsed.items)];
    }
    if (path === '/batch/' || path === '/v1/batch') {
      // posthog-node (`/batch/`), @segment/analytics-node (`/v1/batch`)
      received += parsed.batch?.length ?? 0;
      for (const event of parsed.batch ?? []) seen.add(String(event.uuid ?? event.messageId));
      requests += 1;
      return [200, { status: 1 }];
    }
    return [404, {}];
  });
  return {
    url: server.url,
    received: () => received,
    distinct: () => seen.size,
    requests: () => requests,
    reset: () => {
      received = 0;
      requests = 0;
      seen.clear();
    },
    close: () => server.close(),
  };
}

function spawnChild(client: Client, url: string): Promise<ChildResult> {
  const file = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      file,
      '--client',
      client,
      '--url',
      url,
      '--events',
      String(events),
      '--producers',
      String(producers),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code !== 0 || !last) return reject(new Error(`${client} child exited ${code}: ${out}`));
      resolve(JSON.parse(last) as ChildResult);
    });
  });
}

if (values.client) {
  await runChild(values.client as Client, values.url ?? '');
  process.exit(0);
}

const server = await startServer();
const rows: {
  client: Client;
  received: number;
  distinct: number;
  requests: number;
  rate: number;
  rssMiB: number;
  seconds: number;
}[] = [];
try {
  for (const client of clients) {
    server.reset();
    const result = await spawnChild(client, server.url);
    const received = server.received();
    const distinct = server.distinct();
    rows.push({
      client,
      received,
      distinct,
      requests: server.requests(),
      // Distinct events over the time; events the server got more than once (a client's retry after its
      // own request timeout) count in `received` but not in the rate.
      rate: (distinct / result.ms) * 1000,
      rssMiB: result.maxRssBytes / 2 ** 20,
      seconds: result.ms / 1000,
    });
    console.log(
      `${client}: ${distinct.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} distinct events (${received.toLocaleString('en-US')} received) in ${(result.ms / 1000).toFixed(2)} s`,
    );
  }
} finally {
  await server.close();
}

console.log(
  `\n${events.toLocaleString('en-US')} events of ~200 bytes, ${producers} producers, batches of ${BATCH}, one in-memory server:`,
);
console.log('| client | events/s | seconds | events received (incl. resent) | requests | peak RSS (child) |');
console.log('|---|---|---|---|---|---|');
for (const row of rows)
  console.log(
    `| ${row.client} | ${formatNumber(row.rate)} | ${row.seconds.toFixed(2)} | ${row.received.toLocaleString('en-US')} | ${row.requests.toLocaleString('en-US')} | ${row.rssMiB.toFixed(0)} MiB |`,
  );

const [sluice, ...peers] = rows;
if (!sluice) throw new Error('no Sluice row');
const fastest = peers.reduce((best, row) => (row.rate > best.rate ? row : best));
for (const peer of peers)
  reportFigure({
    figure: `${peer.client} into the same in-memory server, ${formatNumber(events)} events, batches of ${BATCH} (in-memory queue), peak RSS ${peer.rssMiB.toFixed(0)} MiB`,
    value: peer.rate,
    unit: 'events/s',
    note: `${peer.received} events received; peak RSS of its process ${peer.rssMiB.toFixed(0)} MiB`,
  });
reportFigure({
  figure: `SDK vs peers: Sluice into the same in-memory server, ${formatNumber(events)} events, batches of ${BATCH} ('fsync'), peak RSS ${sluice.rssMiB.toFixed(0)} MiB`,
  value: sluice.rate,
  unit: 'events/s',
  ceiling: fastest.rate,
  ceilingLabel: `the faster peer, ${fastest.client}`,
  target: { ratioAtLeast: 3 },
  note: `${sluice.received} events received; peak RSS of its process ${sluice.rssMiB.toFixed(0)} MiB`,
});
const missing = rows.filter((row) => row.distinct < events);
if (missing.length > 0) {
  console.error(`events missing at the server: ${missing.map((row) => row.client).join(', ')}`);
  process.exitCode = 1;
}
