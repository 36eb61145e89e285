import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SOURCE = fileURLToPath(new URL('../src', import.meta.url));
/** The one module allowed to make anything durable. */
const DURABLE_FILE = 'durable-file.ts';

/** A call or reference to fsync/fdatasync (node:fs functions, or FileHandle `sync`/`datasync`). */
const FSYNC = /\bf(?:data)?sync(?:Sync)?\b\s*[(,)}]|\.(?:data)?sync\b/;

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

async function sourceFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** `file:line: text` of every line of `text` that calls fsync. */
function fsyncCalls(file: string, text: string): string[] {
  return withoutComments(text)
    .split('\n')
    .flatMap((line, index) => (FSYNC.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : []));
}

describe('durable-file placement', () => {
  it(`finds fsync and fdatasync calls in no source file but ${DURABLE_FILE}`, async () => {
    const offenders: string[] = [];
    for (const path of await sourceFiles(SOURCE)) {
      const file = relative(SOURCE, path);
      if (file === DURABLE_FILE) continue;
      offenders.push(...fsyncCalls(file, await readFile(path, 'utf8')));
    }
    expect(offenders).toEqual([]);
    expect(fsyncCalls(DURABLE_FILE, await readFile(join(SOURCE, DURABLE_FILE), 'utf8'))).not.toEqual([]);
  });

  it('recognises every way of calling fsync, and not the word in comments or durability names', () => {
    const calls = [
      'await handle.sync();',
      'await this.#handle.datasync();',
      'fsync(fd, done);',
      'fdatasyncSync(fd);',
      "import { fsync } from 'node:fs';",
      'const sync = promisify(fsync);',
    ];
    for (const call of calls) expect(fsyncCalls('x.ts', call), call).toHaveLength(1);
    const harmless = [
      "// the copy is fsync'd before it is renamed",
      "if (durability === 'fsync') return;",
      '/** fsyncs a directory */',
      'await syncFileData(handle, durability);',
    ];
    for (const line of harmless) expect(fsyncCalls('x.ts', line), line).toEqual([]);
  });
});
