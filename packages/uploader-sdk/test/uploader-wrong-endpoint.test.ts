import { readdir, stat } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import {
  type AuthenticationError,
  isAuthenticationError,
  isEndpointError,
  type UploaderLogger,
} from '../src/index.js';
import { describe, expect, it, type ServerOverrides } from './support/fixtures.js';
import { type Cleanup, notStoredOnce, waitFor } from './support/harness.js';
import { sendJson, startScriptedServer } from './support/scripted-server.js';

/** What a case needs to start the endpoint it points the uploader at. */
type Setup = {
  server: TestServer;
  cleanup: Cleanup;
  startServer: (overrides?: ServerOverrides) => Promise<TestServer>;
};

/** A server answering every request with an HTML page, as an ingress or another service would. */
async function htmlServer(cleanup: Cleanup, status: number): Promise<string> {
  const scripted = await startScriptedServer((_request, response) => {
    const page = `<html><body><h1>${status}</h1>nginx</body></html>`;
    response.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
    response.end(page);
  });
  cleanup.add(() => scripted.close());
  return scripted.url;
}

/** A server redirecting every request to a login page (which answers 200 in HTML), as an SSO gateway does. */
async function loginRedirectServer({ cleanup }: Setup): Promise<string> {
  const scripted = await startScriptedServer((request, response) => {
    if (request.path === '/login') {
      const page = '<html><body>Sign in</body></html>';
      response.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      response.end(page);
      return;
    }
    response.writeHead(302, { location: '/login', 'content-length': 0 });
    response.end();
  });
  cleanup.add(() => scripted.close());
  return scripted.url;
}

/** A proxy in front of the real API that adds a header larger than the API's HTTP parser accepts. */
async function headerAddingProxy({ server, cleanup }: Setup): Promise<string> {
  const target = new URL(server.url);
  const proxy = createServer((request, response) => {
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, 'x-tracking': 't'.repeat(20_000) },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

/** A server answering every request with the contract's 404 body, as a Sluice server without the route. */
async function contractNotFoundServer({ cleanup }: Setup): Promise<string> {
  const scripted = await startScriptedServer((request, response) =>
    sendJson(response, 404, {
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.path}`, retryable: false },
    }),
  );
  cleanup.add(() => scripted.close());
  return scripted.url;
}

async function workerServer({ startServer }: Setup): Promise<string> {
  return (await startServer({ role: 'worker' })).url;
}

const cases: [string, (setup: Setup) => Promise<string>, RegExp, RegExp][] = [
  [
    'the real API under a wrong path prefix',
    async ({ server }) => `${server.url}/wrong-prefix`,
    /^endpoint answers 404 NOT_FOUND for POST http:\/\/127\.0\.0\.1:\d+\/wrong-prefix\/v1\/batch: .*check `endpoint`/,
    /\/wrong-prefix\/v1\/blobs/,
  ],
  [
    'an ingress answering 404 in HTML',
    ({ cleanup }) => htmlServer(cleanup, 404),
    /^endpoint answers 404 for POST http:\/\/127\.0\.0\.1:\d+\/v1\/batch: no Sluice ingest route answers there/,
    /404 for POST \S+\/v1\/blobs/,
  ],
  [
    'an ingress answering 405 in HTML',
    ({ cleanup }) => htmlServer(cleanup, 405),
    /^endpoint answers 405 for POST \S+\/v1\/batch: no Sluice ingest route answers there/,
    /405 for POST \S+\/v1\/blobs/,
  ],
  [
    'an ingress answering 502 in HTML',
    ({ cleanup }) => htmlServer(cleanup, 502),
    /^endpoint answers 502 for POST \S+\/v1\/batch: .*proxy or gateway/,
    /502 for POST \S+\/v1\/blobs/,
  ],
  [
    'a login portal answering 200 in HTML',
    ({ cleanup }) => htmlServer(cleanup, 200),
    /^endpoint answers 200 INVALID_RESPONSE for POST \S+\/v1\/batch: .*not the Sluice ingest API's answer/,
    /200 INVALID_RESPONSE for POST \S+\/v1\/blobs/,
  ],
  [
    'a gateway redirecting to a login page',
    loginRedirectServer,
    /^endpoint answers 302 for POST \S+\/v1\/batch: the endpoint redirects to http:\/\/127\.0\.0\.1:\d+\/login/,
    /302 for POST \S+\/v1\/blobs/,
  ],
  [
    'a proxy adding headers too large for the API',
    headerAddingProxy,
    /^endpoint answers 400 INVALID_REQUEST for POST \S+\/v1\/batch: the API could not read the HTTP request itself/,
    /400 INVALID_REQUEST for POST \S+\/v1\/blobs/,
  ],
  [
    'a Sluice-shaped 404 for the route',
    contractNotFoundServer,
    /^endpoint answers 404 NOT_FOUND for POST \S+\/v1\/batch: .*ROLE=worker/,
    /404 NOT_FOUND for POST \S+\/v1\/blobs/,
  ],
  [
    'an ingest server running with ROLE=worker',
    workerServer,
    /^endpoint answers 404 NOT_FOUND for POST \S+\/v1\/batch: .*ROLE=worker/,
    /404 NOT_FOUND for POST \S+\/v1\/blobs/,
  ],
];

describe('a wrong endpoint never destroys data', () => {
  it.for(cases)(
    '%s: keeps records and blobs queued, reports the cause once per lane, then delivers once pointed right',
    async ([_, endpointOf, recordMessage, blobMessage], { server, cleanup, startServer, openUploader }) => {
      const endpoint = await endpointOf({ server, cleanup, startServer });
      const logged: string[] = [];
      const logger: UploaderLogger = {
        debug: () => {},
        info: () => {},
        warn: () => {},
        error: (_object, message) => logged.push(message),
      };
      const first = await openUploader({ endpoint, backoffBaseMs: 20, backoffMaxMs: 100, logger });
      const errors: Error[] = [];
      first.uploader.on('error', (error) => errors.push(error));
      const retries = { record: 0, blob: 0 };
      first.uploader.on('retry', (event) => {
        retries[event.kind] += 1;
      });
      const records: string[] = [];
      for (let i = 0; i < 30; i++)
        records.push((await first.uploader.enqueue({ type: 'click', data: { i } })).id);
      const blobs: string[] = [];
      for (let i = 0; i < 2; i++) {
        const body = Buffer.alloc(3000 + i, i);
        blobs.push((await first.uploader.enqueueBlob({ type: 'shot', body, contentType: 'image/png' })).id);
      }
      await waitFor(() => retries.record >= 5 && retries.blob >= 5);

      // Many failed rounds, one report per lane.
      expect(errors.every(isEndpointError)).toBe(true);
      expect(errors).toHaveLength(2);
      expect(errors.find((error) => error.message.includes('/v1/batch'))?.message).toMatch(recordMessage);
      expect(errors.find((error) => error.message.includes('/v1/blobs'))?.message).toMatch(blobMessage);
      expect(logged).toEqual(errors.map((error) => error.message));
      expect(first.uploader.stats()).toMatchObject({ queued: 32, queuedBlobs: 2, delivered: 0, dead: 0 });
      expect(await first.uploader.deadLetters()).toEqual([]);
      const copies = await readdir(join(first.directory, 'blob-data'));
      const sizes = await Promise.all(
        copies.map(async (file) => (await stat(join(first.directory, 'blob-data', file))).size),
      );
      expect(sizes.sort()).toEqual([3000, 3001]);
      await first.uploader.close();

      const second = await openUploader({ endpoint: server.url, directory: first.directory });
      expect(await second.uploader.flush()).toMatchObject({
        complete: true,
        delivered: 32,
        dead: 0,
        queued: 0,
      });
      expect(await notStoredOnce(server, records)).toEqual([]);
      expect(await notStoredOnce(server, blobs)).toEqual([]);
      expect(await readdir(join(first.directory, 'blob-data'))).toEqual([]);
    },
  );
});

describe('a proxy refusing the request is not a refused key', () => {
  it('an HTML 403 pauses sending, keeps every item, and says the answer was not the API’s; the API’s own 401 blames the key', async ({
    server,
    cleanup,
    openUploader,
  }) => {
    const proxy = await htmlServer(cleanup, 403);
    const first = await openUploader({ endpoint: proxy, authRetryMs: 100_000 });
    const errors: Error[] = [];
    first.uploader.on('error', (error) => errors.push(error));
    await first.uploader.enqueue({ type: 'click', data: { i: 1 } });
    await waitFor(() => errors.length > 0);
    expect(isAuthenticationError(errors[0])).toBe(true);
    expect((errors[0] as AuthenticationError).fromApi).toBe(false);
    expect(errors[0]!.message).toMatch(/HTTP 403 .*not the Sluice ingest API/);
    expect(errors[0]!.message).not.toContain('refused the API key');
    expect(first.uploader.stats()).toMatchObject({ queued: 1, paused: true, dead: 0 });
    await first.uploader.close();

    const refused = await openUploader({ endpoint: server.url, apiKey: 'not-a-key', authRetryMs: 100_000 });
    const refusals: Error[] = [];
    refused.uploader.on('error', (error) => refusals.push(error));
    await refused.uploader.enqueue({ type: 'click', data: { i: 2 } });
    await waitFor(() => refusals.length > 0);
    expect((refusals[0] as AuthenticationError).fromApi).toBe(true);
    expect(refusals[0]!.message).toContain('the server refused the API key (UNAUTHORIZED)');
  });
});
