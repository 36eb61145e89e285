import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestResponse } from '@sluice/contracts';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../src/testing.js';
import { runCli } from './support/cli.js';
import { postBatch, record } from './support/http.js';
import { spawnServer, startServerProcess } from './support/server-process.js';

const realPg = await realPostgresAvailable();

const startServer = startServerProcess;

describe('the server process', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('starts on embedded defaults with the dev key, logs the URL, the key and that PGlite is not durable, and exits 0 on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-server-'));
    const server = await startServer({ DATA_DIR: dataDir });
    expect(server.output()).toContain('Bearer dev-key');
    expect(server.output()).toContain('Bearer dev-admin-key');
    expect(server.output()).toMatch(
      /embedded database \(PGlite\): its writes are not flushed to disk.*DATABASE_URL/,
    );
    const response = await postBatch<IngestResponse>(
      { url: server.url, apiKey: 'dev-key', source: 'dev', query: async () => [] },
      { items: [record('boot-1')] },
    );
    expect(response.body.results).toEqual([{ id: 'boot-1', status: 'stored' }]);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // startServerProcess allows a start 90 s (tsx and PGlite under a loaded machine).
  }, 120_000);

  it('refuses to start on a non-loopback address without keys, saying what works, and starts once sources:create made one', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-server-'));
    const refused = spawnServer({ HOST: '0.0.0.0', DATA_DIR: dataDir, ADMIN_KEY: 'admin-key-0123456789' });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
    expect(refused.output()).toMatch(/API_KEYS=source:key/);
    expect(refused.output()).toMatch(/sources:create NAME.*same (DATA_DIR|DATABASE_URL)/s);

    // The second way the message names: a key made with sources:create on the same database.
    const created = await runCli('sources-create', ['edge'], { DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    const server = await startServer({
      HOST: '0.0.0.0',
      DATA_DIR: dataDir,
      ADMIN_KEY: 'admin-key-0123456789',
    });
    try {
      expect(server.output()).not.toContain('dev-key');
      const client = { url: server.url, apiKey: key, source: 'edge', query: async () => [] };
      expect((await postBatch<IngestResponse>(client, { items: [record('edge-1')] })).status).toBe(200);
      expect((await postBatch(client, { items: [record('edge-2')] }, { key: 'dev-key' })).status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 180_000);

  it.skipIf(!realPg)(
    'finishes an in-flight request on SIGTERM, then closes the pool and exits 0',
    async () => {
      db = await createTestDatabase();
      const server = await startServer({
        DATABASE_URL: db.url ?? '',
        DATA_DIR: db.dataDir,
        API_KEYS: 'test:test-key',
      });
      const client = { url: server.url, apiKey: 'test-key', source: 'test', query: async () => [] };
      expect((await postBatch(client, { items: [record('warm')] })).status).toBe(200);
      const locker = postgres(db.url ?? '', { max: 1, onnotice: () => {} });
      try {
        const reserved = await locker.reserve();
        await reserved`begin`;
        await reserved`lock table items in exclusive mode`;
        const inFlight = postBatch<IngestResponse>(client, { items: [record('drain-1')] });
        await new Promise((resolve) => setTimeout(resolve, 300));
        server.child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(server.child.exitCode).toBeNull();
        await reserved`rollback`;
        reserved.release();
        expect((await inFlight).body.results).toEqual([{ id: 'drain-1', status: 'stored' }]);
        expect(await server.exited).toBe(0);
        const rows = await locker`select id from items where id = 'drain-1'`;
        expect(rows).toHaveLength(1);
      } finally {
        await locker.end({ timeout: 5 });
      }
    },
  );
});
