import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestResponse } from '@sluice/contracts';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../src/testing.js';
import { postBatch, record } from './support/http.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const realPg = await realPostgresAvailable();

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

async function startServer(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
    if (match?.[1] !== undefined) return { child, url: match[1], output: () => output, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the server process', () => {
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('starts on embedded defaults with the dev key, logs the URL and key, and exits 0 on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-server-'));
    const server = await startServer({ DATA_DIR: dataDir });
    expect(server.output()).toContain('Bearer dev-key');
    const response = await postBatch<IngestResponse>(
      { url: server.url, apiKey: 'dev-key', source: 'dev', query: async () => [] },
      { items: [record('boot-1')] },
    );
    expect(response.body.results).toEqual([{ id: 'boot-1', status: 'stored' }]);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on a non-loopback address without API_KEYS, saying why', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-server-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '', HOST: '0.0.0.0', PORT: '0', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API_KEYS/);
  });

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
