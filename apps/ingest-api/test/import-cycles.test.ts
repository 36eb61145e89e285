import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './support/import-cycles.js';

const repo = resolve(import.meta.dirname, '../../..');
const roots = [
  join(repo, 'apps/ingest-api/src'),
  ...readdirSync(join(repo, 'packages')).map((name) => join(repo, 'packages', name, 'src')),
];

describe('import graph', () => {
  it('has no cycle in apps/ingest-api/src or packages/*/src', () => {
    const graph = importGraph(roots);
    expect(graph.size).toBeGreaterThan(50);
    expect(importCycles(graph, repo)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['/r/a.ts', ['/r/b.ts']],
      ['/r/b.ts', ['/r/c.ts']],
      ['/r/c.ts', ['/r/a.ts']],
      ['/r/d.ts', ['/r/a.ts']],
    ]);
    expect(importCycles(graph, '/r')).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
