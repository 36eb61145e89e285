import type { RouteContract } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument } from '../src/openapi.js';
import { unresolvedRefs } from './support/json-refs.js';

describe('openApiDocument', () => {
  it('has no $ref that does not resolve', () => {
    expect(unresolvedRefs(openApiDocument())).toEqual([]);
  });

  it('hoists the definitions zod nests in a schema (recursive, shared) into components', () => {
    const Node: z.ZodType<{ children: unknown[] }> = z.lazy(() => z.object({ children: z.array(Node) }));
    const Shared = z.string().meta({ id: 'Shared' });
    const route: RouteContract = {
      method: 'POST',
      path: '/tree/:id',
      summary: 'a tree',
      authenticated: true,
      body: {
        contentType: 'application/json',
        schema: { name: 'Tree', schema: z.object({ root: Node, a: Shared }) },
      },
      responses: {
        200: { description: 'ok', body: { name: 'Pair', schema: z.object({ a: Shared, b: Shared }) } },
      },
    };
    const document = openApiDocument({ tree: route });
    expect(JSON.stringify(document)).not.toMatch(/"#\/(definitions|\$defs)\//);
    expect(unresolvedRefs(document)).toEqual([]);
    expect(Object.keys((document.paths as Record<string, unknown>) ?? {})).toEqual(['/tree/{id}']);
  });

  it('reports a dangling $ref', () => {
    expect(unresolvedRefs({ a: { $ref: '#/definitions/__schema0' }, b: { $ref: '#/a' } })).toEqual([
      '#/definitions/__schema0',
    ]);
  });
});
