import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** A template ready to load, or why there is none. */
export type EmbeddedTemplate =
  | { readonly ok: true; readonly path: string; readonly tarball: Blob }
  | { readonly ok: false; readonly path: string | undefined; readonly reason: string };

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
 * Reads and decompresses the template. Decompressing here, rather than inside PGlite, checks the gzip
 * CRC before a single file is written: a truncated or damaged template is refused whole and the caller
 * falls back to `initdb`, instead of leaving a half-written data directory.
 */
export async function readEmbeddedTemplate(path = embeddedTemplatePath()): Promise<EmbeddedTemplate> {
  if (path === undefined) return { ok: false, path, reason: 'no template beside the server (built?)' };
  try {
    const tar = await promisify(gunzip)(await readFile(path));
    return { ok: true, path, tarball: new Blob([tar], { type: 'application/x-tar' }) };
  } catch (error) {
    return { ok: false, path, reason: error instanceof Error ? error.message : String(error) };
  }
}
