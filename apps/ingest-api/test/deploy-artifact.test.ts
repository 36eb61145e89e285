import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { IngestResponse, ItemStatusResponse } from '@sluice/contracts';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';
import { databaseEnv } from './support/cli.js';
import { get, postBatch, record } from './support/http.js';
import { startServerProcess } from './support/server-process.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const MiB = 1024 * 1024;

/** Bytes of the regular files under `directory` (symbolic links not followed). */
async function sizeOf(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe('the deployable artifact (pnpm deploy:api DIR)', () => {
  let db: TestDatabase | undefined;
  let workDir: string | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    workDir = undefined;
  });

  it('holds production dependencies, dist and migrations only, and runs with node dist/server.js', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'sluice-artifact-'));
    const artifact = join(workDir, 'api');
    // `pnpm deploy:api` without its build step: turbo builds this package before its tests, and a build
    // here would replace dist/ under the tests running beside this one.
    expect(existsSync(join(packageDir, 'dist', 'server.js')), 'build the package first').toBe(true);
    await promisify(execFile)('pnpm', ['deploy:api:built', artifact, '--offline'], {
      cwd: repoRoot,
      env: { ...process.env, CI: '1' },
      timeout: 120_000,
    });

    expect((await readdir(artifact)).sort()).toEqual(
      ['README.md', 'dist', 'drizzle', 'node_modules', 'package.json', 'pnpm-lock.yaml'].sort(),
    );
    expect(existsSync(join(artifact, 'dist', 'server.js'))).toBe(true);
    expect(existsSync(join(artifact, 'drizzle', 'meta', '_journal.json'))).toBe(true);
    // A first start on an empty DATA_DIR copies this instead of running initdb.
    expect(existsSync(join(artifact, 'dist', 'embedded-template.tar.gz'))).toBe(true);
    for (const workspacePackage of [artifact, join(artifact, 'node_modules', '@sluice', 'contracts')]) {
      for (const unwanted of ['.data', 'src', 'test', '.turbo', 'bench', 'tsconfig.json'])
        expect(existsSync(join(workspacePackage, unwanted)), `${workspacePackage}/${unwanted}`).toBe(false);
    }
    const installed = await readdir(join(artifact, 'node_modules', '.pnpm'));
    for (const devOnly of ['vitest@', 'tsup@', 'tsx@', 'drizzle-kit@', 'typescript@', 'openapi-typescript@'])
      expect(installed.filter((name) => name.startsWith(devOnly))).toEqual([]);
    expect(await sizeOf(artifact)).toBeLessThan(200 * MiB);

    db = await createTestDatabase();
    const server = await startServerProcess(
      {
        ...databaseEnv(db),
        API_KEYS: 'artifact:artifact-key-1',
        ADMIN_KEY: 'artifact-admin-key-1',
        HOST: '127.0.0.1',
      },
      { builtIn: artifact },
    );
    try {
      const client = { url: server.url, apiKey: 'artifact-key-1', source: 'artifact', query: async () => [] };
      await expect
        .poll(async () => (await get(client, '/readyz', null)).status, { timeout: 30_000 })
        .toBe(200);
      const sent = await postBatch<IngestResponse>(client, { items: [record('shipped-1', { ok: true })] });
      expect(sent.body.results).toEqual([{ id: 'shipped-1', status: 'stored' }]);
      const item = await get<ItemStatusResponse>(client, '/v1/items/shipped-1');
      expect(item.body).toMatchObject({ id: 'shipped-1', kind: 'record' });
      if (db.url !== undefined) {
        const sql = postgres(db.url, { max: 1, onnotice: () => {} });
        try {
          expect(await sql`select source, id from items`).toEqual([{ source: 'artifact', id: 'shipped-1' }]);
        } finally {
          await sql.end({ timeout: 5 });
        }
      }
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 180_000);
});
