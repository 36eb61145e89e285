import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import type { IngestResponse } from '@sluice/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { EMBEDDED_CREATING_FILE, startCreating } from '../src/db/embedded-directory.js';
import { EMBEDDED_LOCK_FILE } from '../src/db/embedded-lock.js';
import {
  copyEmbeddedTemplate,
  EMBEDDED_TEMPLATE_FILE,
  EMBEDDED_TEMPLATE_MANIFEST,
  type EmbeddedTemplateManifest,
} from '../src/db/embedded-template.js';
import { get, postBatch, record } from './support/http.js';
import { type ServerProcess, spawnServer, startServerProcess } from './support/server-process.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const FROM_TEMPLATE = 'embedded database created from the build template';
const KEY = 'template-key-1';

/** The identifier PostgreSQL gives a cluster at initdb: a database copied from the template keeps the template's. */
async function inspect(dataDir: string, ids: readonly string[]) {
  const pg = await PGlite.create(join(dataDir, 'pglite'));
  try {
    const system = await pg.query<{ id: string }>(
      'select system_identifier::text as id from pg_control_system()',
    );
    const items = await pg.query<{ id: string }>(
      'select id from items where id = any($1::text[]) order by id',
      [[...ids]],
    );
    return { systemIdentifier: system.rows[0]?.id, items: items.rows.map((row) => row.id) };
  } finally {
    await pg.close();
  }
}

/** Starts the built package in `builtIn`, or the server from sources (no template) when it is undefined. */
async function start(dataDir: string, builtIn: string | undefined): Promise<ServerProcess> {
  const server = await startServerProcess(
    { DATA_DIR: dataDir, API_KEYS: `template:${KEY}`, ADMIN_KEY: 'template-admin-key-1', HOST: '127.0.0.1' },
    builtIn === undefined ? {} : { builtIn },
  );
  const client = { url: server.url, apiKey: KEY, source: 'template', query: async () => [] };
  await expect.poll(async () => (await get(client, '/readyz', null)).status, { timeout: 60_000 }).toBe(200);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

async function send(
  server: ServerProcess,
  ids: readonly string[],
  status: 'stored' | 'duplicate' = 'stored',
): Promise<void> {
  const client = { url: server.url, apiKey: KEY, source: 'template', query: async () => [] };
  const sent = await postBatch<IngestResponse>(client, { items: ids.map((id) => record(id, { id })) });
  expect(sent.body.results).toEqual(ids.map((id) => ({ id, status })));
}

/**
 * Starts the server from sources on `dataDir` and waits until it listens (then stops it again) or exits:
 * its exit code, or `'listening'`, and what it printed.
 */
async function startOutcome(
  dataDir: string,
): Promise<{ outcome: number | null | 'listening'; output: string }> {
  const server = spawnServer({
    DATA_DIR: dataDir,
    API_KEYS: `template:${KEY}`,
    ADMIN_KEY: 'template-admin-key-1',
    HOST: '127.0.0.1',
  });
  const deadline = Date.now() + 90_000;
  while (server.child.exitCode === null && !/listening on/.test(server.output())) {
    if (Date.now() > deadline) server.child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (server.child.exitCode !== null) return { outcome: server.child.exitCode, output: server.output() };
  server.child.kill('SIGTERM');
  await server.exited;
  return { outcome: 'listening', output: server.output() };
}

/** Every directory and file under `root` (but the server's lock file, which each start rewrites), files by content hash. */
async function tree(root: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const relative = path.slice(root.length + 1);
    if (relative === EMBEDDED_LOCK_FILE) continue;
    found[relative] = entry.isDirectory()
      ? 'directory'
      : createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
  }
  return found;
}

/** The fields of the server's JSON log lines whose message contains `text`. */
function logLines(server: Pick<ServerProcess, 'output'>, text: string): { level: number; msg: string }[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(text))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
}

/** A copy of the built package (dist copied, node_modules and migrations linked) whose template a test may break. */
async function packageCopy(work: string): Promise<string> {
  const copy = join(work, 'package');
  await mkdir(copy);
  await cp(join(packageDir, 'dist'), join(copy, 'dist'), { recursive: true });
  await cp(join(packageDir, 'package.json'), join(copy, 'package.json'));
  await symlink(join(packageDir, 'drizzle'), join(copy, 'drizzle'));
  await symlink(join(packageDir, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

describe('the embedded database template (built server, fresh DATA_DIR)', () => {
  let work: string | undefined;
  const running: ServerProcess[] = [];
  afterEach(async () => {
    for (const server of running.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    work = undefined;
  });

  it('creates the database from the template; a batch is stored in it and survives a restart', async () => {
    expect(existsSync(join(packageDir, 'dist', EMBEDDED_TEMPLATE_FILE)), 'build the package first').toBe(
      true,
    );
    const manifest = JSON.parse(
      await readFile(join(packageDir, 'dist', EMBEDDED_TEMPLATE_MANIFEST), 'utf8'),
    ) as EmbeddedTemplateManifest;
    work = await mkdtemp(join(tmpdir(), 'sluice-template-'));
    const dataDir = join(work, 'data');

    const first = await start(dataDir, packageDir);
    running.push(first);
    expect(logLines(first, FROM_TEMPLATE)).toHaveLength(1);
    await send(first, ['tpl-1', 'tpl-2']);
    await stop(first);
    // Not initdb's work: the cluster is the template's own.
    expect(await inspect(dataDir, ['tpl-1', 'tpl-2'])).toEqual({
      systemIdentifier: manifest.systemIdentifier,
      items: ['tpl-1', 'tpl-2'],
    });

    const second = await start(dataDir, packageDir);
    running.push(second);
    expect(logLines(second, FROM_TEMPLATE)).toEqual([]);
    await send(second, ['tpl-3']);
    await stop(second);
    expect(await inspect(dataDir, ['tpl-1', 'tpl-2', 'tpl-3'])).toEqual({
      systemIdentifier: manifest.systemIdentifier,
      items: ['tpl-1', 'tpl-2', 'tpl-3'],
    });
  }, 180_000);

  it.each([
    ['damaged', /template could not be used/, (path: string) => truncate(path, 100_000)],
    ['missing', /no embedded database template/, (path: string) => rm(path)],
    // A sound archive that PostgreSQL cannot start from: what the copy wrote must not stop initdb.
    [
      'non-database',
      /template could not be used/,
      async (path: string) => {
        const content = join(dirname(path), 'not-a-database');
        await mkdir(content);
        await writeFile(join(content, 'PG_VERSION'), '17\n');
        await promisify(execFile)('tar', ['--format=ustar', '-czf', path, '-C', content, 'PG_VERSION']);
      },
    ],
  ])(
    'a %s template: the server warns, creates the database with initdb, and a later server with a good template keeps that database',
    async (_, warning, breakTemplate) => {
      work = await mkdtemp(join(tmpdir(), 'sluice-template-'));
      const dataDir = join(work, 'data');
      const broken = await packageCopy(work);
      await breakTemplate(join(broken, 'dist', EMBEDDED_TEMPLATE_FILE));
      const manifest = JSON.parse(
        await readFile(join(packageDir, 'dist', EMBEDDED_TEMPLATE_MANIFEST), 'utf8'),
      ) as EmbeddedTemplateManifest;

      const first = await start(dataDir, broken);
      running.push(first);
      const warnings = logLines(first, 'initdb').filter((line) => line.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(warning);
      expect(logLines(first, FROM_TEMPLATE)).toEqual([]);
      await send(first, ['init-1']);
      await stop(first);
      const made = await inspect(dataDir, ['init-1']);
      expect(made.items).toEqual(['init-1']);
      expect(made.systemIdentifier).not.toBe(manifest.systemIdentifier);

      // The directory holds a database now: the intact template must not replace it.
      const second = await start(dataDir, packageDir);
      running.push(second);
      expect(logLines(second, FROM_TEMPLATE)).toEqual([]);
      await stop(second);
      expect(await inspect(dataDir, ['init-1'])).toEqual(made);
    },
    180_000,
  );
});

describe('an embedded directory holding files but no PG_VERSION (server from sources)', () => {
  let work: string | undefined;
  const running: ServerProcess[] = [];
  afterEach(async () => {
    for (const server of running.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    work = undefined;
  });

  it('a database that lost PG_VERSION: the server refuses to start, saying what to do, and changes no file; with PG_VERSION back every item is there', async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-template-'));
    const dataDir = join(work, 'data');
    const pgliteDir = join(dataDir, 'pglite');
    const ids = Array.from({ length: 500 }, (_, i) => `kept-${i}`);

    const first = await start(dataDir, undefined);
    running.push(first);
    await send(first, ids);
    await stop(first);
    const version = await readFile(join(pgliteDir, 'PG_VERSION'));
    await rm(join(pgliteDir, 'PG_VERSION'));
    const before = await tree(pgliteDir);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['base', 'global', 'pg_wal']));

    const refused = await startOutcome(dataDir);
    expect(refused.outcome).toBe(1);
    const lines = logLines({ output: () => refused.output }, 'not starting');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toContain(pgliteDir);
    expect(lines[0]?.msg).toMatch(/PG_VERSION/);
    expect(lines[0]?.msg).toMatch(/backup/);
    expect(lines[0]?.msg).toMatch(/move the directory/);
    expect(await tree(pgliteDir)).toEqual(before);

    // The database was only missing its version file: restored, it has every item and still knows them.
    await writeFile(join(pgliteDir, 'PG_VERSION'), version);
    const restored = await start(dataDir, undefined);
    running.push(restored);
    await send(restored, ids, 'duplicate');
    await stop(restored);
    expect((await inspect(dataDir, ids)).items.sort()).toEqual([...ids].sort());
  }, 240_000);

  it.each([
    ['part of the template, no PG_VERSION', 1_000_000],
    ['the whole template, PG_VERSION included', undefined],
  ])(
    'a start killed while copying the template left %s: the next start creates the database again and stores in it',
    async (_, keptBytes) => {
      expect(existsSync(join(packageDir, 'dist', EMBEDDED_TEMPLATE_FILE)), 'build the package first').toBe(
        true,
      );
      work = await mkdtemp(join(tmpdir(), 'sluice-template-'));
      const dataDir = join(work, 'data');
      const pgliteDir = join(dataDir, 'pglite');
      await mkdir(pgliteDir, { recursive: true });
      const template = join(work, EMBEDDED_TEMPLATE_FILE);
      await cp(join(packageDir, 'dist', EMBEDDED_TEMPLATE_FILE), template);
      if (keptBytes !== undefined) await truncate(template, keptBytes);
      // What the server does before its database opens, cut where the crash cut it.
      await startCreating(pgliteDir);
      await copyEmbeddedTemplate(template, pgliteDir).catch(() => {});
      expect(existsSync(join(pgliteDir, 'base'))).toBe(true);
      expect(existsSync(join(pgliteDir, 'PG_VERSION'))).toBe(keptBytes === undefined);

      const server = await start(dataDir, undefined);
      running.push(server);
      expect(logLines(server, 'creating it again').filter((line) => line.level === 40)).toHaveLength(1);
      await send(server, ['again-1', 'again-2']);
      await stop(server);
      expect((await inspect(dataDir, ['again-1', 'again-2'])).items).toEqual(['again-1', 'again-2']);
      expect(existsSync(join(pgliteDir, EMBEDDED_CREATING_FILE))).toBe(false);
    },
    180_000,
  );
});
