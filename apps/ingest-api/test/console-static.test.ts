import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { test as base, describe, expect } from 'vitest';
import { installErrorHandlers } from '../src/error-handler.js';
import { CONSOLE_CSP, consoleRoutes } from '../src/routes/console.js';

const INDEX =
  '<!doctype html><title>console</title><script type="module" src="/console/assets/app-abc123.js"></script>';
const SCRIPT = 'console.log("app");';

/** The console routes alone (no database), serving a small fake build from a temp dir. */
const it = base.extend<{ consoleApp: FastifyInstance }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring.
  consoleApp: async ({}, use) => {
    const dist = await mkdtemp(join(tmpdir(), 'sluice-console-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'assets', 'app-abc123.js'), SCRIPT);
    await writeFile(join(dist, 'secret.txt'), 'not served');
    const app = Fastify();
    installErrorHandlers(app as unknown as FastifyInstance);
    await app.register(consoleRoutes, { distDir: dist });
    await app.ready();
    await use(app as unknown as FastifyInstance);
    await app.close();
    await rm(dist, { recursive: true, force: true });
  },
});

describe('the web console at /console', () => {
  it('answers index.html for /console, /console/ and client-side routes, revalidated, with a strict CSP', async ({
    consoleApp,
  }) => {
    for (const url of ['/console', '/console/', '/console/items', '/console/items/test/a%3Cscript%3E?x=1']) {
      const response = await consoleApp.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toBe(INDEX);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).not.toContain('unsafe-eval');
  });

  it('serves hashed assets as immutable for a year', async ({ consoleApp }) => {
    const response = await consoleApp.inject({ method: 'GET', url: '/console/assets/app-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(SCRIPT);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('answers 404 NOT_FOUND for a missing asset and never serves files outside the assets', async ({
    consoleApp,
  }) => {
    for (const url of [
      '/console/assets/missing.js',
      '/console/assets/../secret.txt',
      '/console/assets/%2e%2e/secret.txt',
      '/console/assets/..%2fsecret.txt',
      '/console/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    ]) {
      const response = await consoleApp.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('not served');
      if (response.statusCode !== 200) {
        expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, url).toBeLessThan(500);
      } else {
        // The router normalised `..` away to a client-side route: the page, never the file.
        expect(response.body).toBe(INDEX);
      }
    }
    const missing = await consoleApp.inject({ method: 'GET', url: '/console/assets/missing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
