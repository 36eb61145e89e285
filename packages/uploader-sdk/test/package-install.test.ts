import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '@sluice/ingest-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsOf, storedIds, tempDirectory } from './support/harness.js';

// What an app team gets: the packed tarballs installed with npm into an empty app, used from ESM, from
// CommonJS, from TypeScript (`module: nodenext`, .mts and .cts) and through the `sluice` bin.

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const packages = ['contracts', 'uploader-sdk'].map((name) => join(repoRoot, 'packages', name));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Enqueues the records named by `IDS`, flushes, prints the flush result; `load` imports the SDK. */
const consumer = (load: string, wrap: (body: string) => string): string => `${load}
${wrap(`const up = await createUploader({
    endpoint: process.env.ENDPOINT, apiKey: process.env.API_KEY, directory: process.env.DIR, maxBatchDelayMs: 10,
  });
  for (const id of process.env.IDS.split(',')) await up.enqueue({ id, type: 'package-install', data: { id } });
  const result = await up.flush({ timeoutMs: 20_000 });
  await up.close();
  console.log(JSON.stringify(result));`)}
`;
const topLevel = (body: string): string => body.replace(/^ {2}/gm, '');
const asyncMain = (body: string): string =>
  `async function main() {\n  ${body}\n}\nmain().catch((error) => {\n  console.error(error);\n  process.exitCode = 1;\n});`;

/** Typed consumers: the public types must be usable as an app would use them. */
const typedConsumer = (load: string, wrap: (body: string) => string): string => `${load}
${wrap(`const options: UploaderOptions = {
    endpoint: process.env.ENDPOINT!, apiKey: process.env.API_KEY!, directory: process.env.DIR!, maxBatchDelayMs: 10,
  };
  const up: Uploader = await createUploader(options);
  up.on('error', (error: Error) => {
    if (isQueueFullError(error)) throw error;
  });
  for (const id of process.env.IDS!.split(',')) await up.enqueue({ id, type: 'package-install', data: { id } });
  const result: FlushResult = await up.flush({ timeoutMs: 20_000 });
  await up.close();
  console.log(JSON.stringify(result));`)}
`;
const typedImports =
  'createUploader, type FlushResult, isQueueFullError, type Uploader, type UploaderOptions';

let server: TestServer;
let app: string;

beforeAll(async () => {
  // Turbo rebuilds only what changed (and leaves dist alone on a cache hit, which other test files read).
  await run(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=@sluice/uploader-sdk', '--output-logs=errors-only'],
    {
      cwd: repoRoot,
    },
  );
  const work = await tempDirectory('sluice-package-install-');
  const tarballs = join(work, 'tarballs');
  for (const dir of packages) await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const packed = (await readdir(tarballs)).map((file) => join(tarballs, file));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...packed,
      '@types/node@20',
    ],
    { cwd: app },
  );
  await writeFile(
    join(app, 'esm.mjs'),
    consumer("import { createUploader } from '@sluice/uploader-sdk';", topLevel),
  );
  await writeFile(
    join(app, 'cjs.cjs'),
    consumer("const { createUploader } = require('@sluice/uploader-sdk');", asyncMain),
  );
  await writeFile(
    join(app, 'typed.mts'),
    typedConsumer(`import { ${typedImports} } from '@sluice/uploader-sdk';`, topLevel),
  );
  await writeFile(
    join(app, 'typed.cts'),
    typedConsumer(`import { ${typedImports} } from '@sluice/uploader-sdk';`, asyncMain),
  );
  await writeFile(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        types: ['node'],
        skipLibCheck: true,
        noEmitOnError: true,
        outDir: 'out',
      },
      files: ['typed.mts', 'typed.cts'],
    }),
  );
  server = await startTestServer();
  return () => rm(work, { recursive: true, force: true });
}, 300_000);

afterAll(() => server?.close());

/** Runs `file` in the app with a fresh queue directory; returns the ids it enqueued after it exited. */
async function consume(file: string): Promise<{ ids: string[]; result: Record<string, unknown> }> {
  const ids = [randomUUID(), randomUUID(), randomUUID()];
  const { stdout } = await run(process.execPath, [file], {
    cwd: app,
    env: {
      ...process.env,
      ENDPOINT: server.url,
      API_KEY: server.apiKey,
      DIR: join(app, `.sluice-${randomUUID()}`),
      IDS: ids.join(','),
    },
  });
  return { ids, result: JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> };
}

describe('the packed SDK installed with npm', () => {
  it('works from an ES module', async () => {
    const { ids, result } = await consume('esm.mjs');
    expect(result).toMatchObject({ complete: true, delivered: 3, queued: 0 });
    expect(await countsOf(server, ids)).toEqual([1, 1, 1]);
  });

  it('works from CommonJS with require()', async () => {
    const { ids, result } = await consume('cjs.cjs');
    expect(result).toMatchObject({ complete: true, delivered: 3, queued: 0 });
    expect(await countsOf(server, ids)).toEqual([1, 1, 1]);
  });

  it('type-checks under module nodenext from .mts and .cts, and the compiled consumers deliver', async () => {
    // One compiler run both type-checks (it fails on any error, emitting nothing) and emits what is run.
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
    for (const file of ['out/typed.mjs', 'out/typed.cjs']) {
      const { ids, result } = await consume(file);
      expect(result).toMatchObject({ complete: true, delivered: 3, queued: 0 });
      expect(await countsOf(server, ids)).toEqual([1, 1, 1]);
    }
  }, 90_000);

  it('installs the sluice bin, which sends files', async () => {
    const file = join(app, 'hello.txt');
    await writeFile(file, 'hello from the packed CLI');
    const before = await storedIds(server, 'blob');
    const { stdout } = await run(
      join(app, 'node_modules', '.bin', 'sluice'),
      ['send', file, '--endpoint', server.url, '--key', server.apiKey, '--dir', join(app, '.sluice-cli')],
      { cwd: app },
    );
    expect(stdout).toContain('1 delivered, 0 dead');
    const id = stdout
      .split('\n')
      .find((line) => line.startsWith('stored\t'))
      ?.split('\t')[1];
    expect(before.has(id!)).toBe(false);
    expect(await countsOf(server, [id!])).toEqual([1]);
  });
});
