// Writes dist/embedded-template.tar.gz (and its manifest): a PGlite data directory with the embedded
// settings and every committed migration, which the server copies into an empty DATA_DIR instead of
// running initdb. Run by `pnpm build` after tsup (which empties dist/).
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { EMBEDDED_SETTINGS } from '../src/db/database.js';
import {
  EMBEDDED_TEMPLATE_FILE,
  EMBEDDED_TEMPLATE_MANIFEST,
  type EmbeddedTemplateManifest,
} from '../src/db/embedded-template.js';
import { migrationsFolder, shippedMigrationCount } from '../src/db/migrations-folder.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(packageDir, 'dist');
const BLOCK = 512;

/** One ustar header (names here are short relative paths: no prefix field needed). */
function header(name: string, type: '0' | '5', mode: number, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`path too long for a ustar header: ${name}`);
  const block = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, '0');
  block.write(name, 0, 'utf8');
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${octal(sum, 7)}\u0000`, 148, 'ascii');
  return block;
}

/**
 * A tar of `root` whose last entry is PG_VERSION: PostgreSQL (and PGlite) take a directory holding
 * PG_VERSION for an initialised database, so a copy cut short leaves no directory they would open (the
 * server also marks the directory while it creates the database, and starts an interrupted copy over).
 */
function tarDirectory(root: string, skip: ReadonlySet<string>): Buffer {
  const parts: Buffer[] = [];
  const add = (relative: string) => {
    const stat = lstatSync(join(root, relative));
    const mtime = Math.floor(stat.mtimeMs / 1000);
    if (stat.isDirectory()) {
      parts.push(header(`${relative}/`, '5', 0o700, 0, mtime));
      for (const entry of readdirSync(join(root, relative)).sort()) add(join(relative, entry));
    } else if (stat.isFile()) {
      const data = readFileSync(join(root, relative));
      parts.push(header(relative, '0', 0o600, data.length, mtime), data);
      const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(Buffer.alloc(padding));
    } else throw new Error(`unexpected file type in the data directory: ${relative}`);
  };
  const top = readdirSync(root)
    .filter((entry) => !skip.has(entry) && entry !== 'PG_VERSION')
    .sort();
  for (const entry of top) add(entry);
  add('PG_VERSION');
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

const work = await mkdtemp(join(tmpdir(), 'sluice-embedded-template-'));
try {
  const dataDir = join(work, 'pglite');
  const pg = await PGlite.create(dataDir, { postgresqlconf: EMBEDDED_SETTINGS });
  let systemIdentifier: string;
  try {
    await migrate(drizzle(pg), { migrationsFolder: migrationsFolder() });
    const rows = await pg.query<{ id: string }>(
      'select system_identifier::text as id from pg_control_system()',
    );
    systemIdentifier = rows.rows[0]?.id ?? '';
  } finally {
    // A clean shutdown: the copied directory starts without crash recovery.
    await pg.close();
  }
  // postmaster.pid belongs to the process that had the directory open; postgresql.conf is rewritten
  // from the embedded settings at every start.
  const tarball = gzipSync(tarDirectory(dataDir, new Set(['postmaster.pid', 'postmaster.opts'])), {
    level: 9,
  });
  const pglite = (
    JSON.parse(
      readFileSync(join(packageDir, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;
  const manifest: EmbeddedTemplateManifest = {
    systemIdentifier,
    pglite,
    migrations: shippedMigrationCount(),
  };
  // Written under a temporary name and renamed: a build interrupted here leaves no truncated template.
  const target = join(outDir, EMBEDDED_TEMPLATE_FILE);
  await writeFile(`${target}.tmp`, tarball);
  await rename(`${target}.tmp`, target);
  await writeFile(join(outDir, EMBEDDED_TEMPLATE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(
    `${EMBEDDED_TEMPLATE_FILE}: ${(tarball.length / 1e6).toFixed(1)} MB, ${manifest.migrations} migrations, PGlite ${pglite}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
