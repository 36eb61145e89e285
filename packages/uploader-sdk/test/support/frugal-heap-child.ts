// Child of frugal-heap.test.ts: calls useFrugalHeap as `sluice tail` does, then allocates as a tailer does
// (objects that survive a few young collections, then die) next to a live set, and prints one JSON line with
// whether the settings were applied, the young generation's size then and the largest seen after.
import { getHeapSpaceStatistics } from 'node:v8';
import { useFrugalHeap } from '../../src/cli/frugal-heap.js';

const youngSize = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

const applied = useFrugalHeap(process.execArgv, process.env.NODE_OPTIONS);
const startBytes = youngSize();
const live = Array.from({ length: 100_000 }, (_, i) => ({ i, text: `live ${i}`.repeat(4) }));
const held: object[][] = [];
let youngBytes = 0;
for (let round = 0; round < 300; round += 1) {
  held.push(Array.from({ length: 2000 }, (_, j) => ({ round, j, text: `line ${j}` })));
  if (held.length > 40) held.shift();
  youngBytes = Math.max(youngBytes, youngSize());
}
console.log(
  JSON.stringify({
    applied,
    startMiB: startBytes / 2 ** 20,
    youngMiB: youngBytes / 2 ** 20,
    live: live.length,
  }),
);
