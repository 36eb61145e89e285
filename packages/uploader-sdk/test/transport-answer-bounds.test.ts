import { rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { classifyRequest, type IngestResponse, recordHash } from '@sluice/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../src/transport.js';
import { tempDirectory } from './support/harness.js';
import { type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

const MiB = 1024 * 1024;

function record(id: string) {
  const item = { id, type: 'click', ts: 1_700_000_000_000, data: { n: id } };
  return Buffer.from(JSON.stringify({ ...item, hash: recordHash(item) }));
}

function idsOf(body: Buffer): string[] {
  return (JSON.parse(body.toString()) as { items: { id: string }[] }).items.map((item) => item.id);
}

let server: ScriptedServer;
let dir: string;

beforeAll(async () => {
  server = await startScriptedServer((_request, response) => sendJson(response, 500, {}));
  dir = await tempDirectory('sluice-answer-bounds-');
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function transport(requestTimeoutMs = 2000) {
  return new Transport({
    endpoint: server.url,
    apiKey: 'k1',
    gzipMinBytes: 1024 * 1024,
    requestTimeoutMs,
    minUploadBytesPerSecond: 64 * 1024,
  });
}

/** Sends the headers at once, then one byte of `body` every `everyMs` (never all of it within a test). */
function trickle(response: ServerResponse, status: number, body: string, everyMs = 1000): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.flushHeaders();
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < body.length - 1) response.write(body[sent++]);
  }, everyMs);
  response.on('close', () => clearInterval(timer));
}

/** Streams `totalBytes` of spaces as fast as the client reads; `written()` tells how many it accepted. */
function flood(response: ServerResponse, status: number, totalBytes: number): { written: () => number } {
  const chunk = Buffer.alloc(MiB, 0x20);
  let written = 0;
  response.writeHead(status, { 'content-type': 'text/html' });
  const pump = (): void => {
    while (written < totalBytes && !response.destroyed) {
      written += chunk.byteLength;
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
  return { written: () => written };
}

describe('the request timeout covers the whole answer, body included', () => {
  it('gives up on a record answer whose body trickles after the headers, as a retryable timeout', async () => {
    server.handler = (request, response) =>
      trickle(
        response,
        200,
        JSON.stringify({
          results: idsOf(request.body).map((id) => ({ id, status: 'stored' })),
          counts: { stored: 1, duplicate: 0, conflict: 0, rejected: 0, retry: 0 },
        }),
      );
    const started = performance.now();
    const result = await transport(500).sendRecords([record('slow')]);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(result.response).toBeUndefined();
    expect(result.timedOut).toBe(true);
    expect(result.code).toBe('TIMEOUT');
    expect(classifyRequest({ status: result.status, code: result.code, itemCount: 1 }).action).toBe('retry');
  });

  it('gives up on a blob answer that stalls after the headers once the blob timeout has passed', async () => {
    const path = join(dir, 'stalled.bin');
    await writeFile(path, Buffer.from('a few bytes'));
    server.handler = (_request, response) => trickle(response, 200, '{"results":[]}', 60_000);
    const manifest = {
      id: 'b-stalled',
      type: 'photo',
      ts: 1,
      contentType: 'image/png',
      size: 11,
      sha256: '0'.repeat(64),
    };
    const started = performance.now();
    const result = await transport(500).sendBlobs([{ manifest, path }]);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(result.timedOut).toBe(true);
    expect(result.code).toBe('TIMEOUT');
  });
});

describe('an answer is read only up to what a real API answer can weigh', () => {
  it('stops reading a huge 200 body, keeps the items (not the API answer), and does not take it all in', async () => {
    let sent: { written: () => number } | undefined;
    server.handler = (_request, response) => {
      sent = flood(response, 200, 128 * MiB);
    };
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await transport(20_000).sendRecords([record('huge')]);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(result.response).toBeUndefined();
    expect(result.code).toBe('INVALID_RESPONSE');
    expect(classifyRequest({ status: undefined, code: result.code, itemCount: 1 }).action).toBe('retry');
    // Reading stopped long before the end: the server could hand over only what sockets buffer beyond it.
    expect(sent!.written()).toBeLessThan(32 * MiB);
    expect(heapGrowth).toBeLessThan(32 * MiB);
  });

  it('takes a huge error body for what it is, not the API: no code, the status alone decides', async () => {
    let sent: { written: () => number } | undefined;
    server.handler = (_request, response) => {
      sent = flood(response, 400, 128 * MiB);
    };
    const result = await transport(20_000).sendRecords([record('huge-400')]);
    expect(result.status).toBe(400);
    expect(result.code).toBeUndefined();
    // A 400 that is not the contract's never dead-letters the item.
    expect(classifyRequest({ status: 400, itemCount: 1 }).action).not.toBe('dead-letter');
    expect(sent!.written()).toBeLessThan(32 * MiB);
  });

  it('still reads the largest answer a real API can give: long ids and error messages for every item', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(124)}`);
    const answer: IngestResponse = {
      results: ids.map((id) => ({
        id,
        status: 'rejected',
        error: { code: 'INVALID_ITEM', message: `item ${id} is invalid: ${'why '.repeat(100)}` },
      })),
      counts: { stored: 0, duplicate: 0, conflict: 0, rejected: ids.length, retry: 0 },
    };
    server.handler = (_request, response) => sendJson(response, 200, answer);
    const result = await transport(20_000).sendRecords(ids.map(record));
    expect(result.code).toBeUndefined();
    expect(result.response?.results).toHaveLength(1000);
  });

  it('does not take in a huge limits answer', async () => {
    let sent: { written: () => number } | undefined;
    server.handler = (_request, response) => {
      sent = flood(response, 200, 128 * MiB);
    };
    expect(await transport(20_000).fetchLimits()).toBeUndefined();
    expect(sent!.written()).toBeLessThan(32 * MiB);
  });

  it('gives up on a limits answer that trickles', async () => {
    server.handler = (_request, response) => trickle(response, 200, '{"maxBatchItems":10}');
    const started = performance.now();
    expect(await transport(500).fetchLimits()).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2500);
  });
});
