// Run by the lock tests as a child process that owns a queue directory until it is killed.
// argv: directory. Prints `ready` once the queue is open.
import { openDiskQueue } from '../src/disk-queue/index.js';

const [directory] = process.argv.slice(2);
await openDiskQueue({ directory: directory! });
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
