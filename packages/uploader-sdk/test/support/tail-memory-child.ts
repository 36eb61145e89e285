// Run as a child process by the tail memory test: tails <file> into an uploader whose endpoint is
// unreachable (the records stay queued on disk) until every byte is enqueued, then prints one JSON line
// with the records enqueued and the peak RSS. Usage: tail-memory-child.ts <directory> <file>
import { join } from 'node:path';
import { createUploader, tailFile } from '../../src/index.js';

const [directory, file] = process.argv.slice(2);
const uploader = await createUploader({
  endpoint: 'http://127.0.0.1:1',
  apiKey: 'k',
  directory: join(directory!, 'uploader'),
  maxQueueBytes: 2 * 1024 * 1024 * 1024,
});
let peak = process.memoryUsage().rss;
let peakUsage = process.memoryUsage();
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  if (usage.rss > peak) {
    peak = usage.rss;
    peakUsage = usage;
  }
}, 20);
const baseline = process.memoryUsage().rss;
const started = performance.now();
const tail = tailFile(file!, { uploader, pollIntervalMs: 50 });
tail.on('error', (error) => process.stderr.write(`tail error: ${error.message}\n`));
for (;;) {
  const [stats] = tail.stats().files;
  if (stats !== undefined && stats.size > 0 && stats.lagBytes === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const ms = performance.now() - started;
const [stats] = tail.stats().files;
await tail.stop();
clearInterval(sampler);
const queued = uploader.stats().queued;
await uploader.close();
process.stdout.write(
  `${JSON.stringify({
    records: stats!.lines,
    queued,
    bytes: stats!.bytesRead,
    ms: Math.round(ms),
    baselineRssMb: Math.round(baseline / 2 ** 20),
    peakRssMb: Math.round(peak / 2 ** 20),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapTotalMb: Math.round(peakUsage.heapTotal / 2 ** 20),
    heapMb: Math.round(peakUsage.heapUsed / 2 ** 20),
    externalMb: Math.round(peakUsage.external / 2 ** 20),
    arrayBuffersMb: Math.round(peakUsage.arrayBuffers / 2 ** 20),
  })}\n`,
);
