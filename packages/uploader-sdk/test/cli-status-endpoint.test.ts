import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice } from './support/cli-run.js';
import { type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

function html(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  const page = `<html><body><h1>${status}</h1>proxy</body></html>`;
  response.writeHead(status, {
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(page),
    ...headers,
  });
  response.end(page);
}

/** One endpoint per path prefix: each answers every lookup the way its name says. */
let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer((request, response) => {
    const [, prefix] = request.path.split('/');
    switch (prefix) {
      case 'gateway':
        return html(response, 502);
      case 'ingress':
        return html(response, 404);
      case 'proxy':
        return html(response, 403);
      case 'portal':
        return html(response, 200);
      case 'sso':
        return html(response, 302, { location: '/login' });
      case 'endless': {
        // A 200 whose body never ends: read whole, it would never be answered and fill the memory.
        response.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
        return;
      }
      default:
        return sendJson(response, 404, {
          error: { code: 'NOT_FOUND', message: 'no item', retryable: false },
        });
    }
  });
});
afterAll(() => server.close());

const lookup = (prefix: string) =>
  sluice(['status', 'some-id', '--endpoint', `${server.url}/${prefix}`], { env: KEY });

describe('sluice status ID… against something that is not the API', () => {
  it.each([
    ['gateway', /HTTP 502: .*not the Sluice ingest API/],
    ['ingress', /HTTP 404: .*not the Sluice ingest API/],
    ['proxy', /HTTP 403: .*not the Sluice ingest API/],
    ['portal', /HTTP 200: .*not the Sluice ingest API/],
    ['sso', /HTTP 302: redirects to http:\/\/127\.0\.0\.1:\d+\/login; configure the final URL/],
  ])('%s: says what answered and exits 1, not 0 or "not found"', async (prefix, message) => {
    const result = await lookup(prefix);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^some-id\\t${message.source}`, 'm'));
    expect(result.stderr).not.toContain('refused the API key');
  });

  it('endless: stops reading an answer past what the API ever sends, says so and exits 1', async () => {
    const result = await lookup('endless');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^some-id\tHTTP 200: .*not the Sluice ingest API/m);
  });

  it('the API’s own 404 for an unknown id: exit 3', async () => {
    const result = await lookup('api');
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toBe('some-id\tHTTP 404\n');
  });
});

describe('an --endpoint that is not an http(s) URL', () => {
  it('with credentials in it is a usage error (exit 2) that does not show them', async () => {
    const result = await sluice(['status', 'some-id', '--endpoint', 'https://user:s3cret@host/ingest'], {
      env: KEY,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--endpoint must not carry credentials');
    expect(result.stderr).not.toContain('s3cret');
  });

  it.each(['not a url', 'ftp://host/ingest', 'localhost:8080'])(
    '%s is a usage error (exit 2)',
    async (endpoint) => {
      const result = await sluice(['status', 'some-id', '--endpoint', endpoint], { env: KEY });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        `--endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`,
      );
    },
  );
});

describe('sluice send to a proxy that answers 403 in HTML', () => {
  it('stops keeping the file queued (exit 4) and says the 403 was not the API’s, not that the key was refused', async () => {
    const work = await mkdtemp(join(tmpdir(), 'sluice-cli-proxy-'));
    try {
      const file = join(work, 'a.txt');
      await writeFile(file, 'hello');
      const result = await sluice(
        ['send', file, '--endpoint', `${server.url}/proxy`, '--dir', join(work, 'q')],
        { env: KEY },
      );
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain('HTTP 403 came from something that is not the Sluice ingest API');
      expect(result.stderr).not.toContain('refused the API key');
      expect(result.stderr).toContain('once the API answers there');
      const status = await sluice(['status', '--dir', join(work, 'q')]);
      expect(status.stdout).toMatch(/^blobs\t1 queued\t5 bytes\t/m);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
