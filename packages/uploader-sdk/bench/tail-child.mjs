// The tailing process of bench/tail.ts: the built package under plain `node` (no tsx, no API code), so
// that its RSS is what an app that tails a file pays. Tails <file> into the API until every line is
// delivered and prints one JSON line. Usage: node bench/tail-child.mjs <directory> <endpoint> <key> <file>
import { createUploader, tailFile } from '@sluice/uploader-sdk';

const [directory, endpoint, apiKey, path] = process.argv.slice(2);
let peak = process.memoryUsage();
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  if (usage.rss > peak.rss) peak = usage;
}, 25);
const uploader = await createUploader({ endpoint, apiKey, directory });
const baseline = process.memoryUsage().rss;
const started = performance.now();
const tail = tailFile(path, { uploader });
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
const mib = (bytes) => Math.round(bytes / 2 ** 20);
console.log(
  JSON.stringify({
    lines: file.lines,
    bytes: file.bytesRead,
    delivered,
    tailedMs,
    deliveredMs,
    baselineMb: mib(baseline),
    peakMb: mib(peak.rss),
    peakHeapMb: mib(peak.heapTotal),
    peakExternalMb: mib(peak.external),
    maxRssMb: mib(process.resourceUsage().maxRSS * 1024),
  }),
);
