// Run as a child process by the tail lifetime test, with no other handles: tails a file, then
// - `stop`: stops the tailer and closes the uploader; the process must then exit on its own;
// - `running`: leaves the tailer running (keepAlive default); the process must stay alive;
// - `unref`: leaves a `keepAlive: false` tailer running; the process must exit on its own.
// Prints `shipped` once the file's lines are enqueued. Usage: tail-lifetime-child.ts <directory> <mode>
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createUploader, tailFile } from '../../src/index.js';

const [directory, mode] = process.argv.slice(2);
await mkdir(join(directory!, 'logs'), { recursive: true });
const path = join(directory!, 'logs', 'app.log');
await writeFile(path, 'one\ntwo\n');
// Nothing listens on port 1: the records stay queued, as on a device offline.
const uploader = await createUploader({
  endpoint: 'http://127.0.0.1:1',
  apiKey: 'k',
  directory: join(directory!, 'uploader'),
});
const tail = tailFile(path, { uploader, pollIntervalMs: 20, keepAlive: mode !== 'unref' });
while (tail.stats().files[0]?.lines !== 2) await new Promise((resolve) => setTimeout(resolve, 10));
process.stdout.write('shipped\n');
if (mode === 'stop') {
  await tail.stop();
  await uploader.close();
}
