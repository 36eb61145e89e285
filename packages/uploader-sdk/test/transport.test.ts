import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyRequest, type IngestResponse, recordHash } from '@sluice/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInvalidResponseError, Transport } from '../src/transport.js';
import { type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

function record(id: string, data: Record<string, string> = { n: id }) {
  const item = { id, type: 'click', ts: 1_700_000_000_000, data };
  return Buffer.from(JSON.stringify({ ...item, hash: recordHash(item) }));
}

function stored(ids: string[]): IngestResponse {
  return {
    results: ids.map((id) => ({ id, status: 'stored' as const })),
    counts: { stored: ids.length, duplicate: 0, conflict: 0, rejected: 0, retry: 0 },
  };
}

let server: ScriptedServer;
let dir: string;

beforeAll(async () => {
  server = await startScriptedServer((_request, response) => sendJson(response, 500, {}));
  dir = await mkdtemp(join(tmpdir(), 'sluice-transport-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function transport(overrides: Partial<ConstructorParameters<typeof Transport>[0]> = {}) {
  return new Transport({
    endpoint: server.url,
    apiKey: 'k1',
    gzipMinBytes: 1024,
    requestTimeoutMs: 2000,
    minUploadBytesPerSecond: 64 * 1024,
    ...overrides,
  });
}

describe('Transport', () => {
  it('posts the items as a batch body with the bearer key, and returns the parsed results', async () => {
    server.handler = (request, response) => {
      const ids = (JSON.parse(request.body.toString()) as { items: { id: string }[] }).items.map(
        (item) => item.id,
      );
      sendJson(response, 200, stored(ids));
    };
    const result = await transport().sendRecords([record('a'), record('b')]);
    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/batch');
    expect(request.headers.authorization).toBe('Bearer k1');
    expect(request.headers['content-encoding']).toBeUndefined();
    const body = JSON.parse(request.body.toString()) as { items: { id: string; hash: string }[] };
    expect(body.items.map((item) => item.id)).toEqual(['a', 'b']);
    expect(result.response?.results.map((r) => r.status)).toEqual(['stored', 'stored']);
  });

  it('gzips bodies at or above the threshold, and the server reads the same items', async () => {
    server.handler = (request, response) => {
      const ids = (JSON.parse(request.body.toString()) as { items: { id: string }[] }).items.map(
        (item) => item.id,
      );
      sendJson(response, 200, stored(ids));
    };
    const payloads = Array.from({ length: 50 }, (_, i) => record(`g${i}`, { text: 'x'.repeat(100) }));
    const result = await transport().sendRecords(payloads);
    const request = server.requests.at(-1)!;
    expect(request.headers['content-encoding']).toBe('gzip');
    expect(request.wireBytes).toBeLessThan(request.body.byteLength / 3);
    expect(result.response?.results).toHaveLength(50);
  });

  it('reports an unparsable 200 as INVALID_RESPONSE, which the contracts retry', async () => {
    server.handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"results": "nope"');
    };
    const result = await transport().sendRecords([record('x')]);
    expect(result.response).toBeUndefined();
    expect(result.code).toBe('INVALID_RESPONSE');
    expect(isInvalidResponseError(result.error)).toBe(true);
    expect(classifyRequest({ status: undefined, code: result.code, itemCount: 1 }).action).toBe('retry');
  });

  it('reports a 200 that answers the wrong number of items as invalid', async () => {
    server.handler = (_request, response) => sendJson(response, 200, stored(['only-one']));
    const result = await transport().sendRecords([record('a'), record('b')]);
    expect(result.code).toBe('INVALID_RESPONSE');
  });

  it('passes status, Retry-After and the error code of a refused request', async () => {
    server.handler = (_request, response) =>
      sendJson(
        response,
        429,
        { error: { code: 'RATE_LIMITED', message: 'slow down', retryable: true } },
        { 'retry-after': '3' },
      );
    const result = await transport().sendRecords([record('a')]);
    expect(result.status).toBe(429);
    expect(result.code).toBe('RATE_LIMITED');
    const decision = classifyRequest({
      status: result.status,
      headers: result.headers!,
      code: result.code!,
      itemCount: 1,
      nowMs: 0,
    });
    expect(decision).toEqual({ action: 'retry', afterMs: 3000, reason: 'RATE_LIMITED' });
  });

  it('reports a connection refused as a network error without throwing', async () => {
    const down = transport({ endpoint: 'http://127.0.0.1:1' });
    const result = await down.sendRecords([record('a')]);
    expect(result.status).toBeUndefined();
    expect(result.code).toBe('NETWORK_ERROR');
    expect(result.error).toBeInstanceOf(Error);
  });

  it('gives up on a silent server after the timeout and says it timed out', async () => {
    server.handler = () => {
      // Never answers.
    };
    const started = performance.now();
    const result = await transport({ requestTimeoutMs: 200 }).sendRecords([record('a')]);
    expect(result.timedOut).toBe(true);
    expect(result.code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('uses a new key after setApiKey', async () => {
    server.handler = (_request, response) => sendJson(response, 200, stored(['a']));
    const client = transport();
    client.setApiKey('k2');
    await client.sendRecords([record('a')]);
    expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer k2');
  });

  it('posts blobs as multipart: the manifest first, then one part per blob named by its id', async () => {
    const path = join(dir, 'photo.bin');
    await writeFile(path, Buffer.from('hello blob'));
    let contentType = '';
    server.handler = (request, response) => {
      contentType = String(request.headers['content-type']);
      sendJson(response, 200, stored(['b1']));
    };
    const manifest = {
      id: 'b1',
      type: 'photo',
      ts: 1,
      contentType: 'image/png',
      size: 10,
      sha256: '0'.repeat(64),
    };
    const result = await transport().sendBlobs([{ manifest, path }]);
    expect(result.response?.results[0]?.status).toBe('stored');
    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/blobs');
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    const text = request.body.toString();
    expect(text.indexOf('name="manifest"')).toBeLessThan(text.indexOf('name="b1"'));
    expect(text).toContain(JSON.stringify({ items: [manifest] }));
    expect(text).toContain('hello blob');
  });

  it('reads the published limits, and gives undefined when the server has none to give', async () => {
    const limits = {
      maxBatchItems: 10,
      maxBatchBytes: 5000,
      maxItemDataBytes: 1000,
      maxBlobsPerRequest: 2,
      maxBlobRequestBytes: 100_000,
      maxBlobBytes: 50_000,
      maxBlobMetaBytes: 100,
    };
    server.handler = (_request, response) => sendJson(response, 200, limits);
    expect(await transport().fetchLimits()).toEqual(limits);
    server.handler = (_request, response) => sendJson(response, 404, {});
    expect(await transport().fetchLimits()).toBeUndefined();
  });
});
