import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type IngestResponse, sha256Hex } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('sources:create', () => {
  // A child process compiling the CLI and opening PGlite takes tens of seconds on a loaded machine.
  it('creates a source, prints a new key once, stores only its hash, and the key works', {
    timeout: 120_000,
  }, async ({ database: db, startApp }) => {
    const env = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: db.dataDir,
      ...(db.url === undefined ? {} : { DATABASE_URL: db.url }),
    };
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/sources-create.ts', 'mobile-app'],
      { cwd: packageDir, env },
    );
    const key = stdout.trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stderr).toContain('mobile-app');

    const { app, url } = await startApp();
    const keys = await app.db.query<{ key_hash: string; source: string }>(
      `select key_hash, source from api_keys where source = 'mobile-app'`,
    );
    expect(keys).toEqual([{ key_hash: sha256Hex(key), source: 'mobile-app' }]);

    const server = { url, apiKey: key, source: 'mobile-app', query: app.db.query };
    const response = await postBatch<IngestResponse>(server, { items: [record('cli-1')] });
    expect(response.body.results).toEqual([{ id: 'cli-1', status: 'stored' }]);
    expect(await app.db.query(`select source, id from items`)).toEqual([
      { source: 'mobile-app', id: 'cli-1' },
    ]);
  });

  it('ends with one line and exit code 1 on an embedded directory that holds files but no database', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-no-pg-version-'));
    try {
      await mkdir(join(dataDir, 'pglite', 'base'), { recursive: true });
      await writeFile(join(dataDir, 'pglite', 'base', 'kept'), 'bytes');
      const failure = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'src/cli/sources-create.ts', 'mobile-app'],
        { cwd: packageDir, env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir } },
      ).catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({ code: 1 });
      const { stderr } = failure as { stderr: string };
      expect(stderr).toMatch(
        /^sluice: the embedded database directory \S+ holds files \(base\) but no PG_VERSION/,
      );
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(await readFile(join(dataDir, 'pglite', 'base', 'kept'), 'utf8')).toBe('bytes');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad source name with a usage message and exit code 2', async ({ database: db }) => {
    const failure = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/sources-create.ts', 'bad name'],
      {
        cwd: packageDir,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: db.dataDir },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('usage');
  });
});
