import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import type { IngestResponse } from '@sluice/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EMBEDDED_TEMPLATE_FILE,
  EMBEDDED_TEMPLATE_MANIFEST,
  type EmbeddedTemplateManifest,
} from '../src/db/embedded-template.js';
import { get, postBatch, record } from './support/http.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';

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

async function start(dataDir: string, builtIn: string): Promise<ServerProcess> {
  const server = await startServerProcess(
    { DATA_DIR: dataDir, API_KEYS: `template:${KEY}`, ADMIN_KEY: 'template-admin-key-1', HOST: '127.0.0.1' },
    { builtIn },
  );
  const client = { url: server.url, apiKey: KEY, source: 'template', query: async () => [] };
  await expect.poll(async () => (await get(client, '/readyz', null)).status, { timeout: 60_000 }).toBe(200);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

async function send(server: ServerProcess, ids: readonly string[]): Promise<void> {
  const client = { url: server.url, apiKey: KEY, source: 'template', query: async () => [] };
  const sent = await postBatch<IngestResponse>(client, { items: ids.map((id) => record(id, { id })) });
  expect(sent.body.results).toEqual(ids.map((id) => ({ id, status: 'stored' })));
}

/** The fields of the server's JSON log lines whose message contains `text`. */
function logLines(server: ServerProcess, text: string): { level: number; msg: string }[] {
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
