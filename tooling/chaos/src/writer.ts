// The log writer of a chaos run: one OS process appending numbered lines (`appLogLine(seed, n)`) to
// `<dir>/app.log` every 20 ms, rotating it at seeded random times by rename + create (writing a few more
// lines to the renamed file first, like an application that reopens its log a moment late) or by
// copytruncate (copy to the rotated name, truncate in place). On SIGTERM it finishes the line in hand,
// writes its summary (how many lines, which rotated files are copies) to --summary, fsyncs, and exits 0.
//   node writer.js --dir DIR --seed N --summary FILE
import {
  closeSync,
  copyFileSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { APP_LOG, appLogLine, type WriterSummary } from './app-log.js';
import { seededRandom } from './random.js';

const LINE_INTERVAL_MS = 20;

function flag(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : process.argv[index + 1];
  if (value === undefined) throw new TypeError(`--${name} is required`);
  return value;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const directory = flag('dir');
  const seed = Number(flag('seed'));
  const summaryPath = flag('summary');
  const random = seededRandom(seed, 'writer');
  const live = join(directory, APP_LOG);
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
  });

  let fd = openSync(live, 'a');
  let n = 0;
  const append = (target: number) => {
    // One write(2) of a whole line: a reader never sees half of one except while it is being written.
    writeSync(target, `${appLogLine(seed, n)}\n`);
    n++;
  };
  const rotations = { rename: 0, copytruncate: 0 };
  const copies: string[] = [];
  let rotated = 0;
  let nextRotation = Date.now() + random.int(3_000, 9_000);

  while (!stopping) {
    await sleep(LINE_INTERVAL_MS);
    if (stopping) break;
    append(fd);
    if (Date.now() < nextRotation || fstatSync(fd).size === 0) continue;
    nextRotation = Date.now() + random.int(3_000, 9_000);
    const name = `${APP_LOG}.${++rotated}`;
    if (random.next() < 0.5) {
      // rename + create: the old descriptor keeps writing to the renamed file for a few lines.
      renameSync(live, join(directory, name));
      for (let i = random.int(0, 5); i > 0; i--) append(fd);
      closeSync(fd);
      fd = openSync(live, 'a');
      rotations.rename++;
    } else {
      // copytruncate, as logrotate does it: copy to the rotated name (not atomically), then truncate.
      copyFileSync(live, join(directory, name));
      ftruncateSync(fd, 0);
      rotations.copytruncate++;
      copies.push(name);
    }
  }
  closeSync(fd);
  const summary: WriterSummary = { written: n, rotations, copies };
  const out = openSync(summaryPath, 'w');
  writeSync(out, JSON.stringify(summary));
  fsyncSync(out);
  closeSync(out);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
