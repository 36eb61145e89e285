// Tail benchmark: ships a generated log file into the real ingest API (real PostgreSQL when
// TEST_DATABASE_URL's server answers, else embedded PGlite — said in the output) with tailFile.
// The tailer and its uploader run in a child process, so that its peak RSS is not mixed with the API's.
// Prints lines/s and MB/s until every line was durably enqueued (tailed) and until delivered (rows in the
// database), and the child's peak RSS.
// Usage: tsx bench/tail.ts [--mb 500] [--line-bytes 200]
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createUploader, tailFile } from '../src/index.js';

const { values } = parseArgs({
  strict: false,
  options: {
    mb: { type: 'string', default: '500' },
    'line-bytes': { type: 'string', default: '200' },
    child: { type: 'string' },
    endpoint: { type: 'string' },
    'api-key': { type: 'string' },
    file: { type: 'string' },
  },
});

if (typeof values.child === 'string') await runChild();
else await runBench();

/** The child: tails the file until delivered, printing one JSON line per phase. */
async function runChild(): Promise<void> {
  const uploader = await createUploader({
    endpoint: String(values.endpoint),
    apiKey: String(values['api-key']),
    directory: String(values.child),
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  const baseline = peak;
  const started = performance.now();
  const tail = tailFile(String(values.file), { uploader });
  tail.on('error', (error) => console.error(error));
  for (;;) {
    const [file] = tail.stats().files;
    if (file !== undefined && file.size > 0 && file.lagBytes === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const tailedMs = performance.now() - started;
  const [file] = tail.stats().files;
  await tail.stop();
  await uploader.flush();
  const deliveredMs = performance.now() - started;
  clearInterval(sampler);
  const { delivered } = uploader.stats();
  await uploader.close();
  const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
  console.log(
    JSON.stringify({
      lines: file!.lines,
      bytes: file!.bytesRead,
      delivered,
      tailedMs,
      deliveredMs,
      baselineMb: mib(baseline),
      peakMb: mib(peak),
    }),
  );
}

async function runBench(): Promise<void> {
  // Imported here only: the child must not load the API's code, whose memory would count in its RSS.
  const { startTestServer } = await import('@sluice/ingest-api/testing');
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
    const lines = await generate(path, totalBytes, lineBytes);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        join(work, 'uploader'),
        '--endpoint',
        server.url,
        '--api-key',
        server.apiKey,
        '--file',
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
    };
    const [row] = await server.query<{ n: string | number }>(
      "select count(*) as n from items where source = $1 and type = 'log'",
      [server.source],
    );
    const perSecond = (count: number, ms: number): string =>
      Math.round((count / ms) * 1000).toLocaleString('en-US');
    const mbPerSecond = (bytes: number, ms: number): string => ((bytes / 1e6 / ms) * 1000).toFixed(1);
    console.log(
      `tailFile of a ${(result.bytes / 1e6).toFixed(0)} MB log (${lines.toLocaleString('en-US')} lines of ${lineBytes} bytes), default options:`,
    );
    console.log(
      `  durably enqueued: ${perSecond(result.lines, result.tailedMs)} lines/s, ${mbPerSecond(result.bytes, result.tailedMs)} MB/s (${Math.round(result.tailedMs)} ms)`,
    );
    console.log(
      `  delivered:        ${perSecond(result.delivered, result.deliveredMs)} lines/s, ${mbPerSecond(result.bytes, result.deliveredMs)} MB/s (${Math.round(result.deliveredMs)} ms, start to flush end)`,
    );
    console.log(`  rows in database: ${Number(row?.n ?? 0).toLocaleString('en-US')}`);
    console.log(`  tailer process RSS: ${result.baselineMb} MiB at start, ${result.peakMb} MiB peak`);
  } finally {
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes about `totalBytes` of `lineBytes`-byte lines with a bounded buffer; returns the line count. */
async function generate(path: string, totalBytes: number, lineBytes: number): Promise<number> {
  const handle = await open(path, 'w');
  let lines = 0;
  try {
    let written = 0;
    while (written < totalBytes) {
      const chunk: string[] = [];
      for (let i = 0; i < 5000 && written < totalBytes; i += 1) {
        const head = `2026-11-23T10:00:00.000Z INFO request=${lines} `;
        const text = `${head}${'x'.repeat(Math.max(0, lineBytes - head.length - 1))}\n`;
        chunk.push(text);
        written += text.length;
        lines += 1;
      }
      await handle.write(chunk.join(''));
    }
  } finally {
    await handle.close();
  }
  return lines;
}
