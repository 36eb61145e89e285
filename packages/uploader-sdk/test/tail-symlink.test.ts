import { appendFile, copyFile, mkdir, rename, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'vitest';
import { tailFile } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { lines, numberedLines, waitCaughtUp } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };

/** `links/app.log -> ../real/app.log`: the followed name is a symlink into another directory. */
async function linkedLog(text: string): Promise<{ real: string; link: string }> {
  const root = await tempDirectory('sluice-tail-link-');
  await mkdir(join(root, 'real'));
  await mkdir(join(root, 'links'));
  const real = join(root, 'real', 'app.log');
  const link = join(root, 'links', 'app.log');
  await writeFile(real, text);
  await symlink('../real/app.log', link);
  return { real, link };
}

// The rotated file, and a copytruncate copy, are beside the file the link leads to, not beside the link:
// they were looked for in the link's directory, never found, and their last lines were lost.
describe('tailFile of a symlink into another directory', () => {
  test('reads the lines a file rotated while the tailer was down got before its rotation', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
    const before = numberedLines('link-rotated-before', 20);
    const { real, link } = await linkedLog(lines(before));
    const options = { uploader, checkpointDirectory, ...fast };
    const tail = tailFile(link, options);
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, before, 8_000);
    await waitCaughtUp(tail);
    await tail.stop();

    const whileDown = numberedLines('link-rotated-while-down', 3);
    await appendFile(real, lines(whileDown));
    await rename(real, `${real}.1`);
    const after = numberedLines('link-rotated-after', 5);
    await writeFile(real, lines(after));
    const again = tailFile(link, options);
    cleanup.add(() => again.stop());
    await expectStoredExactly(server, [...before, ...whileDown, ...after], 8_000);
  });

  test('reads the lines only in a copytruncate copy', async ({ server, cleanup, uploader }) => {
    const before = numberedLines('link-copy-before', 20);
    const { real, link } = await linkedLog(lines(before));
    const tail = tailFile(link, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, before, 8_000);
    await waitCaughtUp(tail);
    const window = numberedLines('link-copy-window', 10);
    await appendFile(real, lines(window));
    await copyFile(real, `${real}.1`);
    await truncate(real, 0);
    const after = numberedLines('link-copy-after', 5);
    await appendFile(real, lines(after));
    await expectStoredExactly(server, [...before, ...window, ...after], 8_000);
  });

  test('follows a rename rotation of the file the link leads to', async ({ server, cleanup, uploader }) => {
    const before = numberedLines('link-live-before', 20);
    const { real, link } = await linkedLog(lines(before));
    const tail = tailFile(link, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    await expectStoredExactly(server, before, 8_000);
    const last = numberedLines('link-live-last', 5);
    await appendFile(real, lines(last));
    await rename(real, `${real}.1`);
    const after = numberedLines('link-live-after', 5);
    await writeFile(real, lines(after));
    await expectStoredExactly(server, [...before, ...last, ...after], 8_000);
  });
});
