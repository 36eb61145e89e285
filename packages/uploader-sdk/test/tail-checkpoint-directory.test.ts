import { appendFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { tailDirectory, tailFile } from '../src/index.js';
import { tempDirectory, waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, numberedLines, storedLines } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The checkpoint directory could not be created (a plain file in its place here; EACCES or ENOSPC do the
// same): the tailer reported one `error` and stopped for good, although the README says it stops itself
// only when its uploader is closed. It now reports it, reads nothing while no checkpoint can be kept, and
// starts once the directory can be created.
describe.each([
  [
    'tailFile',
    (logs: string, options: Parameters<typeof tailFile>[1]) => tailFile(join(logs, 'app.log'), options),
  ],
  ['tailDirectory', (logs: string, options: Parameters<typeof tailFile>[1]) => tailDirectory(logs, options)],
] as const)('%s: a checkpoint directory that cannot be created', (name, start) => {
  test('is reported and tried again; every line is stored once when it can be created', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const parent = await tempDirectory('sluice-tail-checkpoints-');
    const checkpointDirectory = join(parent, 'tail');
    await writeFile(checkpointDirectory, 'not a directory');
    const first = numberedLines(`${name}-unsaved-first`, 20);
    const { logs, path } = await appLog(lines(first));
    const tail = start(logs, { uploader, checkpointDirectory, ...fast });
    cleanup.add(() => tail.stop());
    const errors: Error[] = [];
    tail.on('error', (error) => errors.push(error));
    await waitFor(() => errors.length >= 1);
    // Tried again at every poll (20 ms here), said once.
    await sleep(500);
    expect(errors).toHaveLength(1);
    expect(tail.stats().stopped).toBe(false);
    // Nothing is shipped while nothing can be checkpointed.
    expect(await storedLines(server)).toEqual([]);

    const second = numberedLines(`${name}-unsaved-second`, 20);
    await appendFile(path, lines(second));
    await rm(checkpointDirectory);
    const third = numberedLines(`${name}-unsaved-third`, 20);
    await appendFile(path, lines(third));
    await expectStoredExactly(server, [...first, ...second, ...third], 8_000);
    expect(tail.stats().stopped).toBe(false);
  });
});

// Removed while the tailer runs (a cleanup job, an operator): every save failed from then on, and once the
// records' ts was due for renewal (a save lines depend on) nothing more was shipped.
describe('a checkpoint directory removed while the tailer runs', () => {
  test('is made again at the next save; every line is stored once', async ({ server, cleanup, uploader }) => {
    const checkpointDirectory = join(await tempDirectory('sluice-tail-checkpoints-'), 'tail');
    const first = numberedLines('removed-dir-first', 20);
    const { path } = await appLog(lines(first));
    const tail = tailFile(path, { uploader, checkpointDirectory, ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, first, 8_000);
    await rm(checkpointDirectory, { recursive: true });
    // Past the ts renewal: the next lines wait for a checkpoint write.
    await sleep(1_200);
    const second = numberedLines('removed-dir-second', 20);
    await appendFile(path, lines(second));
    await expectStoredExactly(server, [...first, ...second], 8_000);
    expect(tail.stats().stopped).toBe(false);
  });
});
