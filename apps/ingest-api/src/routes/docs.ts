import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { API_PATHS } from '@sluice/contracts';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { openApiDocument } from '../openapi.js';

const DOCUMENT_PATH = `${API_PATHS.docs}/json`;
const ASSETS_PATH = `${API_PATHS.docs}/assets`;

/** Swagger UI's files, served from the installed package so the page needs no other host. */
const swaggerUiDirectory = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;

// The page's own script is a file, not inline, so the Content-Security-Policy can forbid inline scripts.
// `validatorUrl: null` keeps Swagger UI from sending the document to its public validator.
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(DOCUMENT_PATH)},
    dom_id: '#reference',
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: true,
    persistAuthorization: false,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice ingest API reference</title>
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document itself is at <a href="${DOCUMENT_PATH}">${DOCUMENT_PATH}</a>.</noscript>
<div id="reference"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/init.js"></script>
</body>
</html>
`;

// Swagger UI styles elements inline and shows images as data: URLs; everything else comes from this origin.
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The API reference: `GET /docs` and `/docs/` answer an interactive page (Swagger UI, served from this
 * process), `GET /docs/json` the OpenAPI document generated from the route contracts.
 */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  const document = openApiDocument();
  const page = async (_request: unknown, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_POLICY).send(PAGE);
  app.get(API_PATHS.docs, page);
  app.get(`${API_PATHS.docs}/`, page);
  app.get(DOCUMENT_PATH, async () => document);
  app.get(`${ASSETS_PATH}/init.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(INIT_SCRIPT),
  );
  for (const [file, contentType] of Object.entries(SWAGGER_UI_FILES)) {
    app.get(`${ASSETS_PATH}/${file}`, async (_request, reply) =>
      reply
        .type(contentType)
        .header('cache-control', 'public, max-age=3600')
        .send(createReadStream(join(swaggerUiDirectory, file))),
    );
  }
};
