// Run as a child process by the crash tests: enqueues records (or blobs) and prints each id once its
// enqueue resolved. Usage: node --import tsx crash-child.ts <directory> <endpoint> <count> [records|blobs]
import { randomBytes } from 'node:crypto';
import { createUploader } from '../../src/index.js';

const [directory, endpoint, countText, kind = 'records'] = process.argv.slice(2);
const count = Number(countText);
const uploader = await createUploader({ endpoint: endpoint!, apiKey: 'test-key', directory: directory! });
const window = kind === 'blobs' ? 8 : 256;
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const { id } =
      kind === 'blobs'
        ? await uploader.enqueueBlob({
            type: 'crash-blob',
            body: randomBytes(2000 + (i % 7) * 1000),
            contentType: 'application/octet-stream',
          })
        : await uploader.enqueue({ type: 'crash', data: { i } });
    process.stdout.write(`${id}\n`);
  }
}
await Promise.all(Array.from({ length: window }, () => worker()));
process.stdout.write('done\n');
await uploader.close();
