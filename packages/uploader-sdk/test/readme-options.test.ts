import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UPLOADER_OPTIONS } from '../src/index.js';

/** Rows of the README's options table: option name → default column. */
async function optionsTable(): Promise<Map<string, string>> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Options'),
    readme.indexOf('\n## ', readme.indexOf('## Options') + 1),
  );
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)) rows.set(match[1]!, match[2]!.trim());
  return rows;
}

describe('README options table', () => {
  it('documents every option with its default', async () => {
    const rows = await optionsTable();
    for (const required of ['endpoint', 'apiKey', 'directory']) expect(rows.get(required)).toBe('(required)');
    for (const [key, value] of Object.entries(DEFAULT_UPLOADER_OPTIONS)) {
      expect(rows.has(key), `${key} is missing from the README options table`).toBe(true);
      const shown = typeof value === 'string' ? `'${value}'` : String(value);
      expect(rows.get(key)!.replaceAll('_', '').replaceAll('`', ''), key).toContain(shown);
    }
  });
});
