// Run by disk-queue-crash.test.ts as a child process that is killed with SIGKILL mid-stream.
// argv: directory, first item number. Prints `A <n>` once the append of item n resolved and `K <n>` once
// the ack of item n resolved; acks every even item it reads, printing `S <n>` before the ack starts.
import { openDiskQueue } from '../src/disk-queue/index.js';

const [directory, first] = process.argv.slice(2);
const queue = await openDiskQueue({ directory: directory!, segmentBytes: 4096 });
let next = Number(first);

async function appender(): Promise<void> {
  for (;;) {
    const n = next;
    next += 1;
    await queue.append(Buffer.from(`item-${n}`.padEnd(48, '.')));
    process.stdout.write(`A ${n}\n`);
  }
}

async function acker(): Promise<void> {
  for (;;) {
    await queue.waitForUnread();
    const entries = await queue.read(50, Number.POSITIVE_INFINITY);
    const even = entries.filter(
      (entry) => Number(Buffer.from(entry.payload).toString().slice(5).split('.')[0]) % 2 === 0,
    );
    for (const entry of even)
      process.stdout.write(`S ${Buffer.from(entry.payload).toString().slice(5).split('.')[0]}\n`);
    await queue.ack(even.map((entry) => entry.seq));
    for (const entry of even)
      process.stdout.write(`K ${Buffer.from(entry.payload).toString().slice(5).split('.')[0]}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all([...Array.from({ length: 8 }, appender), acker()]);
