// Run as a child process by the requeue crash test, which SIGKILLs it mid-requeue: opens the uploader on
// <directory> (its endpoint refuses connections, so nothing is delivered) and requeues every dead letter.
// Usage: node --import tsx requeue-child.ts <directory>
import { createUploader } from '../../src/index.js';

const [directory] = process.argv.slice(2);
const uploader = await createUploader({
  endpoint: 'http://127.0.0.1:1',
  apiKey: 'test-key',
  directory: directory!,
});
process.stdout.write('ready\n');
const result = await uploader.requeue();
process.stdout.write(`requeued ${result.requeued.length}\n`);
await uploader.close();
