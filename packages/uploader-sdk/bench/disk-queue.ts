// Disk queue benchmark. Prints:
// - durable append rate (200-byte records, durability 'fsync', many concurrent appenders) next to a raw
//   write + fdatasync loop on the same disk: one fsync per record, and group-committed like the queue;
// - peak RSS while reading through a 1 GiB backlog (written with durability 'os' in another process).
// Usage: tsx bench/disk-queue.ts [--dir <directory on the disk to measure>] [--backlog-mib 1024]
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reportFigure } from '@sluice/bench-report';
import { openDiskQueue } from '../src/disk-queue/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: tmpdir() },
    'backlog-mib': { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '3' },
    appenders: { type: 'string', default: '64' },
  },
});
const RECORD_BYTES = 200;
const BACKLOG_RECORD_BYTES = 1024;
const seconds = Number(values.seconds);
const appenders = Number(values.appenders);
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const rate = (count: number, ms: number): string =>
  `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;

async function appendRate(base: string): Promise<void> {
  const payload = Buffer.alloc(RECORD_BYTES, 0x61);

  const directory = await mkdtemp(join(base, 'sluice-bench-queue-'));
  const queue = await openDiskQueue({ directory });
  let appended = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        await queue.append(payload);
        appended += 1;
      }
    }),
  );
  const queueMs = performance.now() - started;
  await queue.close();
  await rm(directory, { recursive: true, force: true });

  const raw = async (recordsPerSync: number): Promise<{ records: number; ms: number }> => {
    const path = join(base, `sluice-bench-raw-${process.pid}`);
    const handle = await open(path, 'w');
    const chunk = Buffer.alloc(RECORD_BYTES * recordsPerSync, 0x61);
    let position = 0;
    let records = 0;
    const rawStarted = performance.now();
    const rawDeadline = rawStarted + seconds * 1000;
    while (performance.now() < rawDeadline) {
      await handle.write(chunk, 0, chunk.length, position);
      await handle.datasync();
      position += chunk.length;
      records += recordsPerSync;
    }
    const ms = performance.now() - rawStarted;
    await handle.close();
    await rm(path);
    return { records, ms };
  };
  const single = await raw(1);
  const grouped = await raw(appenders);

  console.log(
    `durable append, ${RECORD_BYTES}-byte records, ${appenders} concurrent appenders, ${seconds} s each:`,
  );
  console.log(`  disk queue (durability 'fsync')            ${rate(appended, queueMs)}`);
  console.log(`  raw write + fdatasync per record          ${rate(single.records, single.ms)}`);
  console.log(`  raw write of ${appenders} records + fdatasync    ${rate(grouped.records, grouped.ms)}`);
  reportFigure({
    figure: `disk queue durable append ('fsync'), ${RECORD_BYTES}-byte records, ${appenders} appenders`,
    value: (appended / queueMs) * 1000,
    unit: 'records/s',
    ceiling: (grouped.records / grouped.ms) * 1000,
    ceilingLabel: `raw write of ${appenders} records + fdatasync, same disk`,
  });
}

async function writeBacklog(directory: string, totalBytes: number): Promise<void> {
  const queue = await openDiskQueue({ directory, durability: 'os', maxBytes: totalBytes * 2 });
  const payloads = Array.from({ length: 1000 }, () => Buffer.alloc(BACKLOG_RECORD_BYTES, 0x62));
  const started = performance.now();
  let written = 0;
  while (written < totalBytes) {
    await queue.appendMany(payloads);
    written += payloads.length * BACKLOG_RECORD_BYTES;
  }
  const ms = performance.now() - started;
  await queue.close();
  console.log(`  wrote ${mib(written)} backlog (durability 'os') in ${(ms / 1000).toFixed(1)} s`);
}

async function readBacklog(directory: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  let openedAt = performance.now();
  const queue = await openDiskQueue({ directory, durability: 'os' });
  const openMs = performance.now() - openedAt;
  const { entries, bytes } = queue.stats();
  const rssOpen = process.memoryUsage().rss;
  let peak = rssOpen;
  let read = 0;
  let pendingAcks: number[] = [];
  openedAt = performance.now();
  for (;;) {
    const batch = await queue.read(1000, 1024 * 1024);
    if (batch.length === 0) break;
    read += batch.length;
    for (const entry of batch) pendingAcks.push(entry.seq);
    if (pendingAcks.length >= 20_000) {
      await queue.ack(pendingAcks);
      pendingAcks = [];
    }
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  await queue.ack(pendingAcks);
  const readMs = performance.now() - openedAt;
  await queue.close();
  console.log(
    `  open (scan of ${entries.toLocaleString('en-US')} entries, ${mib(bytes)}): ${openMs.toFixed(0)} ms`,
  );
  console.log(`  read + ack of ${read.toLocaleString('en-US')} entries: ${(readMs / 1000).toFixed(1)} s`);
  console.log(
    `  rss before open ${mib(rssBefore)}, after open ${mib(rssOpen)}, peak while reading ${mib(peak)}`,
  );
  console.log(
    `  resourceUsage().maxRSS of the reading process: ${mib(process.resourceUsage().maxRSS * 1024)}`,
  );
  reportFigure({
    figure: `disk queue: peak RSS reading through a ${mib(bytes)} backlog (${mib(rssOpen)} after open)`,
    value: peak / 1024 / 1024,
    unit: 'MiB',
  });
  reportFigure({
    figure: `disk queue: read + ack of a ${mib(bytes)} backlog`,
    value: (read / readMs) * 1000,
    unit: 'records/s',
  });
}

function runPhase(...args: string[]): void {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, ...args],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error(`benchmark phase ${args[0]} failed (exit ${result.status})`);
}

const [phase, directory] = positionals;
if (phase === 'append-rate') await appendRate(values.dir);
else if (phase === 'write-backlog')
  await writeBacklog(directory!, Number(values['backlog-mib']) * 1024 * 1024);
else if (phase === 'read-backlog') await readBacklog(directory!);
else {
  const base = values.dir;
  runPhase('append-rate', '--dir', base, '--seconds', values.seconds, '--appenders', values.appenders);
  const backlog = await mkdtemp(join(base, 'sluice-bench-backlog-'));
  try {
    console.log(
      `reading through a ${values['backlog-mib']} MiB backlog of ${BACKLOG_RECORD_BYTES}-byte records:`,
    );
    runPhase('write-backlog', backlog, '--backlog-mib', values['backlog-mib']);
    runPhase('read-backlog', backlog);
  } finally {
    await rm(backlog, { recursive: true, force: true });
  }
}
