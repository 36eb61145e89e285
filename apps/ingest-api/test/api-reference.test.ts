import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../src/openapi.js';
import { describe, expect, it } from './support/fixtures.js';
import { get, postBatch, record } from './support/http.js';
import { unresolvedRefs } from './support/json-refs.js';

type Document = {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Every `METHOD path` the server routes (OpenAPI path syntax), read from Fastify's own route tree:
 * each line is one node, indented four columns per level, its path segment joined to its parents'.
 */
function serverRoutes(routeTree: string): string[] {
  const routes: string[] = [];
  const prefixes: string[] = [];
  for (const line of routeTree.split('\n')) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const depth = match[1].length / 4;
    prefixes.length = depth;
    const path = `${prefixes.join('')}${match[2]}`;
    prefixes.push(match[2]);
    for (const method of match[3]?.split(', ') ?? []) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

/** Every `METHOD path` the document describes. */
function documentedRoutes(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('the API reference', () => {
  it('documents every route the server answers, in a document a maintained OpenAPI validator accepts', async ({
    server,
  }) => {
    const answered = await get<Document>(server, '/docs/json', null);
    expect(answered.status).toBe(200);
    expect(answered.headers.get('content-type')).toMatch(/^application\/json/);
    const document = answered.body;
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(unresolvedRefs(document)).toEqual([]);
    // Dereferencing too: a $ref to a missing component fails here, a schema OpenAPI 3.0 forbids fails validation.
    await expect(
      SwaggerParser.validate(structuredClone(document) as OpenAPI.Document),
    ).resolves.toBeDefined();

    // Pages for people (this reference, the web console) and their assets are not part of the API.
    const routed = serverRoutes(server.app.printRoutes({ commonPrefix: false })).filter(
      (route) => !/^GET \/(docs|console)(\/|\*|$)/.test(route),
    );
    expect(routed.length).toBeGreaterThan(0);
    expect(documentedRoutes(document).sort()).toEqual(routed.sort());
  });

  it('yields TypeScript types (openapi-typescript) that the real answers of /v1/limits and /v1/batch typecheck against', async ({
    server,
  }) => {
    const document = (await get<Document>(server, '/docs/json', null)).body;
    const limits = await get(server, '/v1/limits');
    expect(limits.status).toBe(200);
    const request = { items: [record('typed-1', { n: 1 }), record('typed-1', { n: 2 }), record('bad id')] };
    const batch = await postBatch(server, request);
    expect(batch.status).toBe(200);
    const refused = await postBatch(server, request, { key: 'not-a-key' });
    expect(refused.status).toBe(401);

    const directory = await mkdtemp(join(tmpdir(), 'sluice-openapi-ts-'));
    try {
      const types = astToString(await openapiTS(structuredClone(document) as never));
      await writeFile(join(directory, 'api.d.ts'), types);
      // `satisfies` on the literal answers: a missing, mistyped or undocumented extra field fails to compile.
      await writeFile(
        join(directory, 'check.ts'),
        `import type { paths } from './api.js';
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type Limits = Json<paths['/v1/limits']['get']['responses'][200]>;
type BatchRequest = paths['/v1/batch']['post']['requestBody']['content']['application/json'];
type BatchAnswer = Json<paths['/v1/batch']['post']['responses'][200]>;
type Unauthorized = Json<paths['/v1/batch']['post']['responses'][401]>;

export const limits = ${JSON.stringify(limits.body)} satisfies Limits;
export const request = ${JSON.stringify(request)} satisfies BatchRequest;
export const answer = ${JSON.stringify(batch.body)} satisfies BatchAnswer;
export const refused = ${JSON.stringify(refused.body)} satisfies Unauthorized;
export const statuses: BatchAnswer['results'][number]['status'][] = answer.results.map((result) => result.status);
// The generated types are not \`any\`: a wrong value must not compile.
// @ts-expect-error maxBatchItems is a number
export const wrong: Limits = { ...limits, maxBatchItems: 'many' };
`,
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const compiled = await promisify(execFile)(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--exactOptionalPropertyTypes',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          '--skipLibCheck',
          join(directory, 'check.ts'),
        ],
        { cwd: directory },
      ).catch((error: { stdout?: string; message: string }) => ({ stdout: error.stdout ?? error.message }));
      expect(compiled.stdout).toBe('');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it('answers an interactive page at /docs and /docs/ that loads only assets of its own origin', async ({
    server,
  }) => {
    for (const path of ['/docs', '/docs/']) {
      const page = await fetch(`${server.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      const html = await page.text();
      const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
        ([, url]) => url,
      );
      expect(assets.length).toBeGreaterThanOrEqual(3);
      for (const asset of assets) {
        expect(asset).toMatch(/^\/[^/]/);
        const origin = new URL(asset ?? '', page.url);
        expect(origin.origin).toBe(new URL(server.url).origin);
        const loaded = await fetch(origin);
        expect(loaded.status, asset).toBe(200);
        expect((await loaded.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
      }
      expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    }
    const init = await (await fetch(`${server.url}/docs/assets/init.js`)).text();
    expect(init).toContain('"/docs/json"');
    expect(init).toContain('validatorUrl: null');
    for (const hostile of [
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/../../package.json',
      '/docs/assets/index.html',
    ]) {
      const answer = await fetch(`${server.url}${hostile}`);
      expect(answer.status, hostile).toBe(404);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });
});
