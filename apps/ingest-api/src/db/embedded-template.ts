import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/**
 * The embedded database template: a PGlite data directory, initialised and migrated at build time, that
 * a first start copies into an empty embedded directory instead of running `initdb` (seconds of
 * WebAssembly work on every fresh `DATA_DIR`). Written into `dist/` by the package build.
 */
export const EMBEDDED_TEMPLATE_FILE = 'embedded-template.tar.gz';
/** What the build knows about the template, beside it in `dist/`. */
export const EMBEDDED_TEMPLATE_MANIFEST = 'embedded-template.json';

/** The manifest written beside the template. */
export interface EmbeddedTemplateManifest {
  /** `pg_control_system().system_identifier` of the template: every database made from it shares it. */
  readonly systemIdentifier: string;
  /** Version of `@electric-sql/pglite` that made it. */
  readonly pglite: string;
  /** Migrations applied to it (later ones are applied at start, as on any existing database). */
  readonly migrations: number;
}

/** One entry of the template's tar. */
export interface TemplateEntry {
  /** Path relative to the data directory, `/`-separated. */
  readonly name: string;
  readonly kind: 'file' | 'directory';
  /** The file's bytes (a view into the tar); empty for a directory. */
  readonly data: Uint8Array;
}

/** A template ready to copy, or why there is none. */
export type EmbeddedTemplate =
  | { readonly ok: true; readonly path: string; readonly entries: readonly TemplateEntry[] }
  | { readonly ok: false; readonly path: string | undefined; readonly reason: string };

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

/**
 * The entries of a ustar archive, as the build writes the template: regular files and directories
 * with relative paths. Anything else (a bad checksum, a link, a path leaving the directory, a
 * truncated archive) throws, so a damaged template is refused before anything is written.
 */
export function parseTemplateTar(tar: Uint8Array): TemplateEntry[] {
  const entries: TemplateEntry[] = [];
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) throw new Error('template tar ends without its end marker');
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return entries;
    let sum = 0;
    for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    if (Number.parseInt(field(header, 148, 8).trim(), 8) !== sum)
      throw new Error(`template tar header checksum mismatch at byte ${offset}`);
    const prefix = field(header, 345, 155);
    const name = (prefix === '' ? '' : `${prefix}/`) + field(header, 0, 100).replace(/\/$/, '');
    if (name === '' || name.startsWith('/') || name.split('/').includes('..'))
      throw new Error(`template tar entry with an unsafe path: ${JSON.stringify(name)}`);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    offset += BLOCK;
    if (type === '5') entries.push({ name, kind: 'directory', data: new Uint8Array(0) });
    else if (type === '0' || type === '\0') {
      if (!Number.isSafeInteger(size) || offset + size > tar.length)
        throw new Error(`template tar entry ${name} is truncated`);
      entries.push({ name, kind: 'file', data: tar.subarray(offset, offset + size) });
      offset += Math.ceil(size / BLOCK) * BLOCK;
    } else throw new Error(`template tar entry ${name} has unsupported type ${JSON.stringify(type)}`);
  }
}

/**
 * The template's path: beside the bundled module (`dist/`) or one directory up (`dist/cli/`).
 * Undefined when running from sources, which have no build output to find.
 */
export function embeddedTemplatePath(moduleUrl: string = import.meta.url): string | undefined {
  const here = dirname(fileURLToPath(moduleUrl));
  for (const dir of [here, dirname(here)]) {
    const candidate = join(dir, EMBEDDED_TEMPLATE_FILE);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Reads, decompresses and parses the template, all before a single file is written: the gzip CRC and
 * the tar checksums refuse a truncated or damaged template whole, and the caller falls back to
 * `initdb` instead of leaving a half-written data directory.
 */
export async function readEmbeddedTemplate(path = embeddedTemplatePath()): Promise<EmbeddedTemplate> {
  if (path === undefined) return { ok: false, path, reason: 'no template beside the server (built?)' };
  try {
    const entries = parseTemplateTar(await promisify(gunzip)(await readFile(path)));
    if (entries.at(-1)?.name !== 'PG_VERSION') throw new Error('the template does not end with PG_VERSION');
    return { ok: true, path, entries };
  } catch (error) {
    return { ok: false, path, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Writes the template's entries into `dir`. The last entry is PG_VERSION, which PostgreSQL takes as
 * the mark of an initialised directory: a copy interrupted before it leaves a directory the next start
 * still treats as empty and copies again.
 */
export async function copyEmbeddedTemplate(entries: readonly TemplateEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const path = join(dir, ...entry.name.split('/'));
    if (entry.kind === 'directory') await mkdir(path, { recursive: true, mode: 0o700 });
    else {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, entry.data, { mode: 0o600 });
    }
  }
}
