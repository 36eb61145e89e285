import { retryAllFailedBlobs, retryFailedBlobs } from '../worker/retry-failed-blobs.js';
import { withDatabase } from './with-database.js';

const args = process.argv.slice(2);
const all = args.includes('--all');
const ids = args.filter((arg) => arg !== '--all');
if ((all && ids.length > 0) || (!all && ids.length === 0) || ids.some((id) => id.startsWith('-'))) {
  process.stderr.write('usage: blobs:retry --all | ID…   (failed blobs back to pending, attempts reset)\n');
  process.exitCode = 2;
} else {
  await withDatabase(async (db) => {
    const print = (retried: readonly { source: string; id: string }[]) => {
      for (const blob of retried) process.stdout.write(`${blob.source}\t${blob.id}\n`);
    };
    if (all) {
      const count = await retryAllFailedBlobs(db, print);
      process.stderr.write(`${count} failed blob(s) back to pending\n`);
      return 0;
    }
    const retried = await retryFailedBlobs(db, { ids });
    print(retried);
    const missed = ids.filter((id) => !retried.some((blob) => blob.id === id));
    if (missed.length > 0) process.stderr.write(`not failed or unknown, left alone: ${missed.join(' ')}\n`);
    process.stderr.write(`${retried.length} failed blob(s) back to pending\n`);
    return 0;
  });
}
