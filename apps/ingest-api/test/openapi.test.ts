import SwaggerParser from '@apidevtools/swagger-parser';
import type { RouteContract } from '@sluice/contracts';
import type { OpenAPI } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument } from '../src/openapi.js';
import { unresolvedRefs } from './support/json-refs.js';

describe('openApiDocument', () => {
  it('has no $ref that does not resolve', () => {
    expect(unresolvedRefs(openApiDocument())).toEqual([]);
  });

  it('converts recursive, shared and JSON-valued parts into components of their own, each once', async () => {
    const Node: z.ZodType<{ children: unknown[] }> = z.lazy(() => z.object({ children: z.array(Node) }));
    const Shared = z.string().meta({ id: 'Shared' });
    const route: RouteContract = {
      method: 'POST',
      path: '/tree/:id',
      summary: 'a tree',
      authenticated: true,
      body: {
        contentType: 'application/json',
        schema: { name: 'Tree', schema: z.object({ root: Node, a: Shared, data: z.json() }) },
      },
      responses: {
        200: { description: 'ok', body: { name: 'Pair', schema: z.object({ a: Shared, b: Shared }) } },
      },
    };
    const document = openApiDocument({ tree: route });
    expect(JSON.stringify(document)).not.toMatch(/"#\/(definitions|\$defs)\//);
    expect(unresolvedRefs(document)).toEqual([]);
    expect(Object.keys((document.paths as Record<string, unknown>) ?? {})).toEqual(['/tree/{id}']);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas).sort()).toEqual(['Pair', 'Shared', 'Tree', 'schema0', 'schema1']);
    await expect(
      SwaggerParser.validate(structuredClone(document) as OpenAPI.Document),
    ).resolves.toBeDefined();
  });

  it('documents every admin route under the admin key, with its query parameters', () => {
    const document = openApiDocument() as {
      paths: Record<
        string,
        Record<string, { security?: unknown; parameters?: { name: string; in: string }[] }>
      >;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(document.components.securitySchemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' });
    const admin = Object.entries(document.paths).filter(([path]) => path.startsWith('/admin/v1/'));
    expect(admin.flatMap(([, operations]) => Object.keys(operations))).toHaveLength(11);
    for (const [, operations] of admin) {
      for (const operation of Object.values(operations)) expect(operation.security).toEqual([{ admin: [] }]);
    }
    const search = document.paths['/admin/v1/items']?.get?.parameters?.filter((p) => p.in === 'query');
    expect(search?.map((p) => p.name)).toEqual(['source', 'kind', 'type', 'from', 'to', 'limit', 'cursor']);
    expect(document.paths['/v1/batch']?.post?.security).toBeUndefined();
  });

  it('reports a dangling $ref', () => {
    expect(unresolvedRefs({ a: { $ref: '#/definitions/__schema0' }, b: { $ref: '#/a' } })).toEqual([
      '#/definitions/__schema0',
    ]);
  });
});
