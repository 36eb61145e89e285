import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type ErrorBody, type IngestResponse } from '@sluice/contracts';
import type { TestServer } from '../src/testing.js';
import { makeBlob, multipartBody, partsFor, postBlobs, rowCounts, waitFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';

const KiB = 1024;

/** Every file under `directory`, as paths relative to it. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

/** A pid above the kernel's limit, so surely no running process. */
async function deadPid(): Promise<number> {
  const max = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '4194304')).trim());
  return max + 1;
}

// `server`, for the uploads, has small limits and a small spool; the start is tested on `database`.
it.override({
  serverOverrides: {
    limits: { ...DEFAULT_LIMITS, maxBlobBytes: 96 * KiB, maxBlobRequestBytes: 100 * KiB },
    spool: { maxBytes: 100 * KiB },
  },
});

describe('the blob spool at start', () => {
  it("sweeps what crashed processes left in DATA_DIR/spool, keeping other live processes' uploads", async ({
    database,
    startApp,
  }) => {
    const spool = join(database.dataDir, 'spool');
    const dead = String(await deadPid());
    const live = String(process.ppid);
    for (const dir of [join(dead, 'req-a'), join(String(process.pid), 'req-b'), join(live, 'req-c')]) {
      await mkdir(join(spool, dir), { recursive: true });
      await writeFile(join(spool, dir, 'part-1'), 'leftover bytes');
    }
    await writeFile(join(spool, 'stray-file'), 'x');

    const app = await startApp();

    // This process's own leftovers (a crashed server with the same pid) are gone too.
    expect(await filesUnder(spool)).toEqual([join(live, 'req-c', 'part-1')]);
    expect((await readdir(spool)).sort()).toEqual([live, String(process.pid)].sort());
    await app.close();
    expect(await readdir(spool)).toEqual([live]);
  });
});

describe('the blob spool while uploads run', () => {
  /** This process's directory in the server's spool. */
  const spoolOf = (server: TestServer): string => join(server.db.dataDir, 'spool', String(process.pid));

  /** Starts an upload of `blob` whose file part trickles in until `release()` is called. */
  function slowUpload(server: TestServer, blob: ReturnType<typeof makeBlob>) {
    const { body, contentType } = multipartBody(partsFor([blob]));
    // Everything but the last 1 KiB goes at once; the rest waits.
    const head = body.subarray(0, body.length - KiB);
    let release = (): void => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answer = fetch(`${server.url}/v1/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': contentType },
      duplex: 'half',
      body: new ReadableStream({
        async start(controller) {
          controller.enqueue(new Uint8Array(head));
          await released;
          controller.enqueue(new Uint8Array(body.subarray(head.length)));
          controller.close();
        },
      }),
    } as RequestInit & { duplex: 'half' }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as IngestResponse,
    }));
    return { answer, release };
  }

  it('spools parts in DATA_DIR/spool and removes them once the request is answered', async ({ server }) => {
    const spool = spoolOf(server);
    const blob = makeBlob({ size: 40 * KiB });
    const upload = slowUpload(server, blob);
    await waitFor('the part to be spooled', async () => (await filesUnder(spool)).length === 1);
    upload.release();
    const answered = await upload.answer;
    expect(answered.body.results).toEqual([{ id: blob.item.id, status: 'stored' }]);
    expect(await filesUnder(spool)).toEqual([]);
    expect(await readdir(spool)).toEqual([]);
  });

  it('refuses an upload the spool cannot hold with 503 and Retry-After, writing nothing; it succeeds later', async ({
    server,
  }) => {
    const spool = spoolOf(server);
    const holder = makeBlob({ size: 80 * KiB });
    const upload = slowUpload(server, holder);
    await waitFor('the first upload to be spooled', async () => (await filesUnder(spool)).length === 1);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`sluice_blob_spool_bytes ${80 * KiB}\\b`));

    const before = await rowCounts(server);
    const refused = makeBlob({ size: 30 * KiB });
    const answer = await postBlobs<ErrorBody>(server, partsFor([refused]));
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rowCounts(server)).toEqual(before);

    // A manifest whose items are all invalid needs no room and is answered.
    const invalid = { ...makeBlob({ size: 10 }), item: { ...makeBlob({ size: 10 }).item, id: 'no spaces' } };
    expect((await postBlobs(server, partsFor([invalid]))).status).toBe(200);

    upload.release();
    expect((await upload.answer).body.results).toEqual([{ id: holder.item.id, status: 'stored' }]);
    const retried = await postBlobs(server, partsFor([refused]));
    expect(retried.body.results).toEqual([{ id: refused.item.id, status: 'stored' }]);
    expect(await filesUnder(spool)).toEqual([]);
  });
});
