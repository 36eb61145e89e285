import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

/** APIs that parse a string as markup: item data, types, ids and blob meta are attacker-controlled. */
const RAW_HTML = [
  /dangerouslySetInnerHTML/,
  /\.innerHTML\b/,
  /\.outerHTML\b/,
  /insertAdjacentHTML/,
  /createContextualFragment/,
  /document\.write/,
  /\.srcdoc\b/,
  /\bsrcDoc\b/,
  /\beval\s*\(/,
  /new\s+Function\s*\(/,
];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(tsx?|jsx?)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the console source', () => {
  it('never renders a string as HTML (React text nodes escape everything shown)', async () => {
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(5);
    const offences: string[] = [];
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, index) => {
        for (const pattern of RAW_HTML) {
          if (pattern.test(line)) offences.push(`${relative(SRC, file)}:${index + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offences).toEqual([]);
  });
});
