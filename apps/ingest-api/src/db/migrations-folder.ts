import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The committed `drizzle/` migrations folder of this package. Found by walking up from this module,
 * so it resolves the same from `src/` (tests, tsx) and from any file bundled into `dist/`.
 * @throws {Error} when no `drizzle/meta/_journal.json` is found above this module.
 */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no drizzle/ migrations folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let shipped: number | undefined;

/** How many migrations the committed `drizzle/` folder holds (read once). */
export function shippedMigrationCount(): number {
  shipped ??= (
    JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as {
      entries: unknown[];
    }
  ).entries.length;
  return shipped;
}
