import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../error-handler.js';

/** Where the web console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The console's pages run only the bundled script and style files and talk only to this origin; blob
 * previews are object URLs.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The built console (`dist/` of the `@sluice/console` workspace package). */
export function consoleDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@sluice/console/package.json')), 'dist');
}

/**
 * `GET /console`: the web console, a static single-page app on the admin API. Hashed assets are cached
 * for a year; `index.html` (answered for `/console`, `/console/` and every client-side route under it)
 * is revalidated on each load so a new build shows at once. Every answer here carries a strict
 * Content-Security-Policy.
 */
export const consoleRoutes: FastifyPluginAsync<{ distDir?: string }> = async (app, options) => {
  const distDir = options.distDir ?? consoleDistDir();

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    return payload;
  });

  if (!existsSync(join(distDir, 'index.html'))) {
    app.log.warn({ distDir }, 'console not built: /console answers 503 (run pnpm build)');
    const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
      sendError(reply, 'UNAVAILABLE', 'the console is not built');
    app.get(CONSOLE_PATH, notBuilt);
    app.get(`${CONSOLE_PATH}/*`, notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root: join(distDir, 'assets'),
    prefix: `${CONSOLE_PATH}/assets/`,
    index: false,
    // File names carry a content hash: a changed file is a new name.
    maxAge: '365d',
    immutable: true,
  });

  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', distDir, { cacheControl: false });
  };
  app.get(CONSOLE_PATH, sendIndex);
  app.get(`${CONSOLE_PATH}/*`, sendIndex);
};
