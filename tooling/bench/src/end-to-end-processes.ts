// SDK → API → PostgreSQL with each a process of its own: the SDK in a child (src/sdk-producer.mjs, 256
// producers enqueueing ~200-byte records for N s, then flush), 1 and then 2 API processes (`dist/server.js`,
// ROLE=api) behind a round-robin TCP balancer in this process, and the PostgreSQL server of
// TEST_DATABASE_URL. Reports items/s delivered (first enqueue to flush done) for each, and the CPU each
// side used meanwhile (from /proc), which names the bottleneck: the busiest side against its core count.
// Usage: tsx src/end-to-end-processes.ts [--seconds 5] [--producers 256]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reportFigure } from '@sluice/bench-report';
import { createTestDatabase } from '@sluice/ingest-api/testing';
import { type ApiProcess, startApiProcess } from './api-process.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, producers: { type: 'string', default: '256' } },
});
const KEY = 'bench-e2e-key-0123456789';
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) `pid` has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by each process of the PostgreSQL server on this machine, by pid. */
function postgresCpu(): Map<number, number> {
  const used = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        used.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {
      // gone
    }
  }
  return used;
}

/** CPU seconds PostgreSQL used since `before`; backends started since count whole. */
function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, used] of postgresCpu()) total += used - (before.get(pid) ?? 0);
  return total;
}

/** A TCP balancer: each new connection goes to the next target in turn. */
async function startBalancer(ports: readonly number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(ports[next++ % ports.length]!, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Run {
  readonly itemsPerSecond: number;
  readonly cpu: Record<string, number>;
  readonly seconds: number;
}

async function run(databaseUrl: string, apis: number, work: string): Promise<Run> {
  const servers: ApiProcess[] = [];
  try {
    for (let i = 0; i < apis; i += 1) {
      servers.push(
        await startApiProcess({
          DATABASE_URL: databaseUrl,
          DATA_DIR: join(work, `api-${apis}-${i}`),
          ROLE: 'api',
          API_KEYS: `bench:${KEY}`,
          LOG_LEVEL: 'error',
          RATE_LIMIT_RPS: '1000000',
          RATE_LIMIT_BURST: '1000000',
        }),
      );
    }
    const balancer = await startBalancer(servers.map((server) => Number(new URL(server.url).port)));
    try {
      const before = {
        api: servers.reduce((sum, server) => sum + cpuSeconds(server.pid), 0),
        postgres: postgresCpu(),
        balancer: process.cpuUsage(),
      };
      const child = spawn(
        process.execPath,
        [
          fileURLToPath(new URL('./sdk-producer.mjs', import.meta.url)),
          join(work, `queue-${apis}`),
          `http://127.0.0.1:${balancer.port}`,
          KEY,
          String(values.seconds),
          String(values.producers),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let sdkCpu = 0;
      const sampler = setInterval(() => {
        if (child.pid !== undefined) sdkCpu = Math.max(sdkCpu, cpuSeconds(child.pid));
      }, 50);
      const [line] = await Promise.all([
        new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
        new Promise((resolve) => child.on('exit', resolve)),
      ]);
      clearInterval(sampler);
      const result = JSON.parse(line) as { delivered: number; ms: number; complete: boolean };
      if (!result.complete) throw new Error(`the SDK's flush did not complete: ${line}`);
      const balancerUsage = process.cpuUsage(before.balancer);
      const seconds = result.ms / 1000;
      const share = (cpu: number) => cpu / seconds;
      return {
        itemsPerSecond: result.delivered / seconds,
        seconds,
        cpu: {
          SDK: share(sdkCpu),
          [`API ×${apis}`]: share(
            servers.reduce((sum, server) => sum + cpuSeconds(server.pid), 0) - before.api,
          ),
          PostgreSQL: share(postgresCpuSince(before.postgres)),
          balancer: share((balancerUsage.user + balancerUsage.system) / 1e6),
        },
      };
    } finally {
      await balancer.close();
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

function describeCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([side, cores]) => `${side} ${cores.toFixed(2)}`)
    .join(', ');
}

const db = await createTestDatabase();
const work = await mkdtemp(join(tmpdir(), 'sluice-bench-e2e-'));
try {
  if (db.kind !== 'postgres' || db.url === undefined) {
    console.log('SDK → API processes → PostgreSQL: skipped, no PostgreSQL answered at TEST_DATABASE_URL');
  } else {
    const cores = cpus().length;
    const runs: Run[] = [];
    for (const apis of [1, 2]) {
      const result = await run(db.url, apis, work);
      runs.push(result);
      const [busiest] = Object.entries(result.cpu).sort((a, b) => b[1] - a[1]);
      const total = Object.values(result.cpu).reduce((a, b) => a + b, 0);
      const bottleneck =
        total > cores * 0.85
          ? `the machine's ${cores} cores (${total.toFixed(2)} busy; ${busiest?.[0]} the largest share)`
          : `${busiest?.[0]} (${busiest?.[1].toFixed(2)} of a core)`;
      console.log(
        `SDK → ${apis} API process${apis > 1 ? 'es' : ''} → PostgreSQL: ${Math.round(result.itemsPerSecond).toLocaleString('en-US')} items/s over ${result.seconds.toFixed(1)} s; cores busy: ${describeCpu(result.cpu)}; bottleneck: ${bottleneck}`,
      );
      reportFigure({
        figure: `SDK → ${apis} API process${apis > 1 ? 'es' : ''} (ROLE=api) → PostgreSQL, each its own process, ${values.producers} producers`,
        value: result.itemsPerSecond,
        unit: 'items/s',
        note: `cores busy: ${describeCpu(result.cpu)}; bottleneck: ${bottleneck}`,
      });
    }
    const [one, two] = runs;
    if (one !== undefined && two !== undefined) {
      reportFigure({
        figure: 'SDK → API → PostgreSQL: 2 API processes ÷ 1',
        value: two.itemsPerSecond / one.itemsPerSecond,
        unit: '×',
      });
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
  await db.drop();
}
