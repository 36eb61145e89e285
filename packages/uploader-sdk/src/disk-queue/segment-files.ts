import { readdir } from 'node:fs/promises';

const SEGMENT_SUFFIX = '.seg';
const SEGMENT_NAME = /^(\d{20})\.seg$/;

/** File name of the segment whose first entry has `firstSeq`; zero-padded so names sort by seq. */
export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The first seqs of the segment files in `directory`, ascending. */
export async function listSegments(directory: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await readdir(directory)) {
    const match = SEGMENT_NAME.exec(name);
    if (match?.[1] !== undefined) seqs.push(Number(match[1]));
  }
  return seqs.sort((a, b) => a - b);
}
