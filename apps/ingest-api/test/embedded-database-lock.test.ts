import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestResponse } from '@sluice/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { EmbeddedDatabaseLockedError } from '../src/db/embedded-lock.js';
import { runCli } from './support/cli.js';
import { postBatch, record } from './support/http.js';
import { startServerProcess } from './support/server-process.js';

// PGlite starts in seconds on an idle machine, several times slower on a busy one.
describe('the embedded database is opened by one process at a time', () => {
  let dataDir: string | undefined;
  afterEach(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('refuses sources:create while the server runs on PGlite, with what to do; the lock dies with the server', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-lock-'));
    const env = { DATA_DIR: dataDir };
    const server = await startServerProcess(env);
    let killed = false;
    try {
      const refused = await runCli('sources-create', ['mobile'], env);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/in use by another process \(pid \d+\)/);
      expect(refused.stderr).toMatch(/stop the server/i);
      expect(refused.stderr).toMatch(/DATABASE_URL/);

      // SIGKILL: no clean shutdown runs, so only an OS-level lock is released here.
      server.child.kill('SIGKILL');
      await server.exited;
      killed = true;
      const created = await runCli('sources-create', ['mobile'], env);
      expect(created.code).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const restarted = await startServerProcess(env);
      try {
        const client = { url: restarted.url, apiKey: key, source: 'mobile', query: async () => [] };
        const response = await postBatch<IngestResponse>(client, { items: [record('m-1')] });
        expect(response.body.results).toEqual([{ id: 'm-1', status: 'stored' }]);
      } finally {
        restarted.child.kill('SIGTERM');
        expect(await restarted.exited).toBe(0);
      }
    } finally {
      if (!killed) server.child.kill('SIGKILL');
    }
  }, 180_000);

  it('refuses a second opener in the same process until the first closes', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-lock-'));
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await createDatabase(config.db);
    try {
      const second = await createDatabase(config.db).catch((error: unknown) => error);
      expect(second).toBeInstanceOf(EmbeddedDatabaseLockedError);
      expect((second as Error).message).toContain(join(dataDir, 'pglite'));
    } finally {
      await first.close();
    }
    const third = await createDatabase(config.db);
    await third.query('select 1');
    await third.close();
  }, 120_000);
});
