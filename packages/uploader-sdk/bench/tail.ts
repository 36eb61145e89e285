// Tail benchmark: ships a generated log file (short lines and a few 10 MB ones) into the real ingest API
// (real PostgreSQL when TEST_DATABASE_URL's server answers, else embedded PGlite — said in the output) with
// tailFile. The tailer and its uploader run in a child process on the built package (bench/tail-child.mjs,
// plain node), so that its peak RSS is neither the API's nor tsx's. Prints lines/s and MB/s until every line
// was durably enqueued (tailed) and until delivered (rows in the database), and the child's peak RSS against
// the 100 MB target. Then ships a copy of the file (a new inode: new record ids) with `sluice tail`, the
// CLI's own process (built dist, its heap settings), and prints the same figures for it.
// Usage: tsx bench/tail.ts [--mb 500] [--line-bytes 200] [--tailer-node-flags '--max-semi-space-size=2']
//        [--library-only]
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reportFigure } from '@sluice/bench-report';
import { startTestServer } from '@sluice/ingest-api/testing';

const { values } = parseArgs({
  strict: false,
  options: {
    mb: { type: 'string', default: '500' },
    'line-bytes': { type: 'string', default: '200' },
    /** V8 flags for the tailing process, e.g. '--max-old-space-size=48 --max-semi-space-size=2'. */
    'tailer-node-flags': { type: 'string', default: '' },
    /** Skips the `sluice tail` run. */
    'library-only': { type: 'boolean', default: false },
  },
});

/** The target of the tailing process's peak RSS, whatever the file. */
const PEAK_RSS_TARGET_MB = 100;
/** One line this long every 100 MB of the file: split into `maxLineBytes` pieces, never held whole. */
const LONG_LINE_BYTES = 10_000_000;
const LONG_LINE_EVERY_BYTES = 100_000_000;
const MAX_LINE_BYTES = 32_768; // the default
/** How often the `sluice tail` run counts the rows stored. */
const POLL_MS = 1000;
/** The longest the `sluice tail` run may take to deliver every line. */
const CLI_TIMEOUT_MS = 15 * 60_000;

await runBench();

async function runBench(): Promise<void> {
  const totalBytes = Number(values.mb) * 1_000_000;
  const lineBytes = Number(values['line-bytes']);
  const work = await mkdtemp(join(tmpdir(), 'sluice-bench-tail-'));
  const server = await startTestServer({
    logLevel: 'error',
    rateLimit: { rps: 1_000_000, burst: 1_000_000 },
  });
  try {
    console.log(
      `ingest API on ${server.db.kind === 'postgres' ? 'real PostgreSQL' : 'embedded PGlite (no PostgreSQL answered)'}`,
    );
    const path = join(work, 'app.log');
    const { lines, records } = await generate(path, totalBytes, lineBytes);
    const child = spawn(
      process.execPath,
      [
        ...String(values['tailer-node-flags']).split(' ').filter(Boolean),
        fileURLToPath(new URL('./tail-child.mjs', import.meta.url)),
        join(work, 'uploader'),
        server.url,
        server.apiKey,
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = await Promise.all([
      new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
      new Promise((resolve) => child.on('exit', resolve)),
    ]);
    const result = JSON.parse(line) as {
      lines: number;
      bytes: number;
      delivered: number;
      tailedMs: number;
      deliveredMs: number;
      baselineMb: number;
      peakMb: number;
      peakHeapMb: number;
      peakExternalMb: number;
      maxRssMb: number;
    };
    const [row] = await server.query<{ n: string | number }>(
      "select count(*) as n from items where source = $1 and type = 'log'",
      [server.source],
    );
    const perSecond = (count: number, ms: number): string =>
      Math.round((count / ms) * 1000).toLocaleString('en-US');
    const mbPerSecond = (bytes: number, ms: number): string => ((bytes / 1e6 / ms) * 1000).toFixed(1);
    console.log(
      `tailFile of a ${(result.bytes / 1e6).toFixed(0)} MB log (${lines.toLocaleString('en-US')} lines of ${lineBytes} bytes and one of ${LONG_LINE_BYTES / 1e6} MB every ${LONG_LINE_EVERY_BYTES / 1e6} MB), default options, Node ${process.version}${values['tailer-node-flags'] ? ` ${values['tailer-node-flags']}` : ''}:`,
    );
    console.log(
      `  durably enqueued: ${perSecond(result.lines, result.tailedMs)} lines/s, ${mbPerSecond(result.bytes, result.tailedMs)} MB/s (${Math.round(result.tailedMs)} ms)`,
    );
    console.log(
      `  delivered:        ${perSecond(result.delivered, result.deliveredMs)} lines/s, ${mbPerSecond(result.bytes, result.deliveredMs)} MB/s (${Math.round(result.deliveredMs)} ms, start to flush end)`,
    );
    const rows = Number(row?.n ?? 0);
    console.log(
      `  rows in database: ${rows.toLocaleString('en-US')} (${records.toLocaleString('en-US')} expected: short lines plus ${MAX_LINE_BYTES}-byte pieces of the long ones)`,
    );
    const peakMb = Math.max(result.peakMb, result.maxRssMb);
    console.log(
      `  tailer process RSS: ${result.baselineMb} MiB with its uploader open, ${peakMb} MiB peak (V8 heap ${result.peakHeapMb} MiB, buffers ${result.peakExternalMb} MiB; target < ${PEAK_RSS_TARGET_MB} MB: ${peakMb * 1.048576 < PEAK_RSS_TARGET_MB ? 'pass' : 'FAIL'})`,
    );
    const size = `${(result.bytes / 1e6).toFixed(0)} MB log`;
    reportFigure({
      figure: `tailFile of a ${size}, delivered into the API (${server.db.kind})`,
      value: (result.delivered / result.deliveredMs) * 1000,
      unit: 'lines/s',
    });
    reportFigure({
      figure: `tailFile of a ${size}, delivered into the API (${server.db.kind})`,
      value: (result.bytes / 1e6 / result.deliveredMs) * 1000,
      unit: 'MB/s',
    });
    reportFigure({
      figure: `tailFile of a ${size}: peak RSS of the tailing process`,
      value: peakMb * 1.048576,
      unit: 'MB',
      target: { below: PEAK_RSS_TARGET_MB },
    });
    if (rows !== records || result.lines !== records) {
      console.log(`  FAIL: ${result.lines} records tailed and ${rows} rows for ${records} expected`);
      process.exitCode = 1;
    }
    if (values['library-only'] !== true) await benchCli(server, work, path, records, { rows, size });
  } finally {
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Ships a copy of `path` with `sluice tail` (plain output, not a terminal) until `records` more rows are
 * stored; prints and reports its rate (from its start to the last row's `received_at`) and its peak RSS
 * (the kernel's VmHWM, read before SIGINT), then checks that it ends 130 on SIGINT.
 */
async function benchCli(
  server: Awaited<ReturnType<typeof startTestServer>>,
  work: string,
  path: string,
  records: number,
  before: { rows: number; size: string },
): Promise<void> {
  const copy = join(work, 'app-cli.log');
  await copyFile(path, copy);
  const keyFile = join(work, 'key');
  await writeFile(keyFile, server.apiKey, { mode: 0o600 });
  const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    [cli, 'tail', copy, '--endpoint', server.url, '--key-file', keyFile, '--dir', join(work, 'cli')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const expected = before.rows + records;
  let rows = before.rows;
  while (rows < expected && child.exitCode === null && Date.now() - startedAt < CLI_TIMEOUT_MS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const [row] = await server.query<{ n: string | number }>(
      "select count(*) as n from items where source = $1 and type = 'log'",
      [server.source],
    );
    rows = Number(row?.n ?? 0);
  }
  const status = child.exitCode === null ? await readFile(`/proc/${child.pid}/status`, 'utf8') : '';
  const peakKib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  child.kill('SIGINT');
  const code = await exited;
  const [last] = await server.query<{ at: Date | string }>(
    "select max(received_at) as at from items where source = $1 and type = 'log'",
    [server.source],
  );
  const deliveredMs = new Date(last?.at ?? Date.now()).getTime() - startedAt;
  const peakMib = Math.round(peakKib / 1024);
  const fileBytes = (await stat(copy)).size;
  console.log(`sluice tail of a copy (its own process, plain output, Node ${process.version}):`);
  console.log(
    `  delivered:        ${Math.round((records / deliveredMs) * 1000).toLocaleString('en-US')} lines/s, ${((fileBytes / 1e6 / deliveredMs) * 1000).toFixed(1)} MB/s (${deliveredMs} ms, start to last row stored)`,
  );
  console.log(
    `  rows in database: ${(rows - before.rows).toLocaleString('en-US')} (${records.toLocaleString('en-US')} expected)`,
  );
  console.log(
    `  sluice tail peak RSS: ${peakMib} MiB (kernel's VmHWM; target < ${PEAK_RSS_TARGET_MB} MB: ${peakMib * 1.048576 < PEAK_RSS_TARGET_MB ? 'pass' : 'FAIL'}); exit ${code} on SIGINT`,
  );
  reportFigure({
    figure: `sluice tail of a ${before.size}, delivered into the API (${server.db.kind})`,
    value: (records / deliveredMs) * 1000,
    unit: 'lines/s',
  });
  reportFigure({
    figure: `sluice tail of a ${before.size}: peak RSS of its process`,
    value: peakMib * 1.048576,
    unit: 'MB',
    target: { below: PEAK_RSS_TARGET_MB },
  });
  if (rows !== expected || code !== 130 || !Number.isFinite(peakKib)) {
    console.log(
      `  FAIL: ${rows - before.rows} rows for ${records} expected, exit ${code} (130 expected), peak ${peakKib} KiB; its stderr:\n${stderr}`,
    );
    process.exitCode = 1;
  }
}

/**
 * Writes about `totalBytes` of `lineBytes`-byte lines, with one {@link LONG_LINE_BYTES} line every
 * {@link LONG_LINE_EVERY_BYTES}, through bounded buffers; returns the lines and the records they make.
 */
async function generate(
  path: string,
  totalBytes: number,
  lineBytes: number,
): Promise<{ lines: number; records: number }> {
  const handle = await open(path, 'w');
  const longChunk = Buffer.alloc(1_000_000, 'z');
  let lines = 0;
  let records = 0;
  try {
    let written = 0;
    let nextLong = LONG_LINE_EVERY_BYTES / 2;
    while (written < totalBytes) {
      const chunk: string[] = [];
      for (let i = 0; i < 5000 && written < totalBytes; i += 1) {
        const head = `2026-11-23T10:00:00.000Z INFO request=${lines} `;
        const text = `${head}${'x'.repeat(Math.max(0, lineBytes - head.length - 1))}\n`;
        chunk.push(text);
        written += text.length;
        lines += 1;
        records += 1;
      }
      await handle.write(chunk.join(''));
      if (written >= nextLong) {
        for (let bytes = 0; bytes < LONG_LINE_BYTES; bytes += longChunk.byteLength)
          await handle.write(longChunk);
        await handle.write('\n');
        written += LONG_LINE_BYTES + 1;
        lines += 1;
        records += Math.ceil(LONG_LINE_BYTES / MAX_LINE_BYTES);
        nextLong += LONG_LINE_EVERY_BYTES;
      }
    }
  } finally {
    await handle.close();
  }
  return { lines, records };
}
