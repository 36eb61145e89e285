// The SDK side of src/end-to-end-processes.ts, in a process of its own: producers enqueue ~200-byte records
// into an uploader for <seconds>, then it flushes and prints one JSON line (delivered, ms).
// Usage: node src/sdk-producer.mjs <directory> <endpoint> <key> <seconds> <producers>
import { createUploader } from '@sluice/uploader-sdk';

const [directory, endpoint, apiKey, seconds, producers] = process.argv.slice(2);
const payload = { user: 'u-12345', action: 'click', target: 'button#checkout', pad: 'x'.repeat(90) };
const uploader = await createUploader({ endpoint, apiKey, directory });
const started = performance.now();
const deadline = Date.now() + Number(seconds) * 1000;
let enqueued = 0;
await Promise.all(
  Array.from({ length: Number(producers) }, async () => {
    while (Date.now() < deadline) {
      await uploader.enqueue({ type: 'bench.e2e', data: payload });
      enqueued += 1;
    }
  }),
);
const flushed = await uploader.flush();
const ms = performance.now() - started;
const { delivered } = uploader.stats();
await uploader.close();
console.log(JSON.stringify({ enqueued, delivered, ms, complete: flushed.complete }));
