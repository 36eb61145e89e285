import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './random.js';

/** The live log file the writer appends to, in the run's app-log directory. */
export const APP_LOG = 'app.log';
/** What the log client tails: the live file and every rotated file (`app.log.1`, `app.log.2`, …). */
export const APP_LOG_INCLUDE = [APP_LOG, `${APP_LOG}.*`];

/** Line `n` (from 0) the writer of run `seed` appends: unique content, a function of seed and n only. */
export function appLogLine(seed: number, n: number): string {
  const random = seededRandom(seed, `app-log:${n}`);
  return `seq=${n} ${random.bytes(random.int(8, 150)).toString('base64')}`;
}

/** The seq number of a line written by {@link appLogLine}, or undefined for anything else. */
export function appLogSeq(line: string): number | undefined {
  const match = /^seq=(\d+) /.exec(line);
  return match === null ? undefined : Number(match[1]);
}

/** What the writer wrote, saved (fsynced) when it is stopped with SIGTERM. */
export interface WriterSummary {
  /** Lines 0 … written-1 were appended, each whole. */
  readonly written: number;
  readonly rotations: { readonly rename: number; readonly copytruncate: number };
  /** Names of the rotated files made by copying (copytruncate); the others were renamed. */
  readonly copies: readonly string[];
}

/** Every line found in the files of the app-log directory (copies repeat lines of the live file). */
export function linesOnDisk(directory: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(directory)) {
    const text = readFileSync(join(directory, name), 'utf8');
    for (const line of text.split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}
