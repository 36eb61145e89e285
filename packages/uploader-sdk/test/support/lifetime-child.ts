// Run as a child process by the lifetime tests; it holds no handle of its own, so whatever keeps it alive
// (or fails to) is the uploader. Usage:
//   node --import tsx lifetime-child.ts <mode> <directory> <endpoint> <records> [blobs]
// Modes: `flush` enqueues, awaits flush() then close(); `enqueued` enqueues with a 30 s batch delay and
// returns at once, without flush() or close(); `idle` enqueues, waits for `drained` (holding the
// process with a timer of its own meanwhile), and returns without flush() or close(); `sigterm` enqueues, sends itself SIGTERM at the first retry while flushing,
// and its SIGTERM handler awaits close(). Prints each id, then `result <json>` of the flush, then `done`.
import { randomBytes } from 'node:crypto';
import { createUploader } from '../../src/index.js';

const [mode, directory, endpoint, recordsText, blobsText = '0'] = process.argv.slice(2);
const uploader = await createUploader({
  endpoint: endpoint!,
  apiKey: 'test-key',
  directory: directory!,
  maxBatchItems: 50,
  maxBatchDelayMs: mode === 'enqueued' ? 30_000 : 20,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
});
const drained = new Promise<void>((resolve) => uploader.once('drained', () => resolve()));
for (let i = 0; i < Number(recordsText); i++) {
  process.stdout.write(`${(await uploader.enqueue({ type: 'lifetime', data: { i } })).id}\n`);
}
for (let i = 0; i < Number(blobsText); i++) {
  const { id } = await uploader.enqueueBlob({
    type: 'lifetime-blob',
    body: randomBytes(3000 + i),
    contentType: 'application/octet-stream',
  });
  process.stdout.write(`${id}\n`);
}
if (mode === 'enqueued') {
  process.stdout.write('enqueued\n');
} else if (mode === 'idle') {
  // Only while waiting for delivery does the script hold the process itself; then it lets go.
  const hold = setInterval(() => {}, 1000);
  await drained;
  clearInterval(hold);
  process.stdout.write('idle\n');
} else {
  if (mode === 'sigterm') {
    process.once('SIGTERM', async () => {
      await uploader.close();
      process.stdout.write('closed\n');
    });
    uploader.once('retry', () => process.kill(process.pid, 'SIGTERM'));
  }
  const result = await uploader.flush();
  process.stdout.write(`result ${JSON.stringify(result ?? null)}\n`);
  await uploader.close();
}
process.stdout.write('done\n');
