// Run as a child process by the crash test: enqueues records and prints each id once its enqueue resolved.
// Usage: node --import tsx crash-child.ts <directory> <endpoint> <count>
import { createUploader } from '../../src/index.js';

const [directory, endpoint, countText] = process.argv.slice(2);
const count = Number(countText);
const uploader = await createUploader({ endpoint: endpoint!, apiKey: 'test-key', directory: directory! });
const window = 256;
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const { id } = await uploader.enqueue({ type: 'crash', data: { i } });
    process.stdout.write(`${id}\n`);
  }
}
await Promise.all(Array.from({ length: window }, () => worker()));
process.stdout.write('done\n');
await uploader.close();
