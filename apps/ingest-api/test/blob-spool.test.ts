import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_LIMITS, type ErrorBody, type IngestResponse } from '@sluice/contracts';
import { BlobSpool } from '../src/ingest/blob-spool.js';
import { realPostgresAvailable, type TestServer } from '../src/testing.js';
import { makeBlob, multipartBody, partsFor, postBlobs, rowCounts, waitFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';

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

/** Starts an upload of `blob` whose file part trickles in until `release()` is called. */
function slowUpload(server: Pick<TestServer, 'url' | 'apiKey'>, blob: ReturnType<typeof makeBlob>) {
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

/** The bytes staged in the database for the blob `id`, its chunks joined in order. */
async function stagedBytes(server: Pick<TestServer, 'query'>, id: string): Promise<Buffer> {
  const rows = await server.query<{ bytes: Buffer }>(
    'select bytes from blob_staging where id = $1 order by seq',
    [id],
  );
  return Buffer.concat(rows.map((row) => row.bytes));
}

/** A server process as the upload helpers see it. */
function processClient(server: ServerProcess): Pick<TestServer, 'url' | 'apiKey'> {
  return { url: server.url, apiKey: 'test-key' };
}

const realPg = await realPostgresAvailable();
if (!realPg) {
  console.warn(
    '!!! SKIPPED blob-spool (the start sweep with server processes): two servers sharing a DATA_DIR need a real PostgreSQL',
  );
}

// `server`, for the uploads, has small limits and a small spool; the start is tested on `database`.
it.override({
  serverOverrides: {
    limits: { ...DEFAULT_LIMITS, maxBlobBytes: 96 * KiB, maxBlobRequestBytes: 100 * KiB },
    spool: { maxBytes: 100 * KiB },
  },
});

describe('the blob spool at start', () => {
  it.skipIf(!realPg)(
    'leaves everything in DATA_DIR/spool it did not create byte for byte; removes what a killed server left, keeps what a running one holds',
    async ({ database, startApp }) => {
      const spool = join(database.dataDir, 'spool');
      // DATA_DIR=/var: the spool directory is shared with cron, mail and whatever else, numeric names too.
      const foreign: Record<string, string> = {
        'cron/crontabs/root': '0 3 * * * /usr/local/bin/backup\n',
        'mail/alice': 'From: bob\n\nhello\n',
        'stray-file': 'x',
        [join(String(await deadPid()), 'notes.txt')]: "not the server's",
        [join(String(await deadPid()), 'req-abcdef', 'part-1')]: "spool-like names, not the server's",
        [join(String(process.pid), 'notes.txt')]: 'a directory named like this process',
      };
      for (const [path, content] of Object.entries(foreign)) {
        await mkdir(dirname(join(spool, path)), { recursive: true });
        await writeFile(join(spool, path), content);
      }

      const env = { DATABASE_URL: database.url ?? '', DATA_DIR: database.dataDir, API_KEYS: 'test:test-key' };
      const killed = await startServerProcess(env);
      const running = await startServerProcess(env);
      try {
        const crashed = slowUpload(processClient(killed), makeBlob({ size: 40 * KiB }));
        crashed.answer.catch(() => {});
        const held = slowUpload(processClient(running), makeBlob({ size: 40 * KiB }));
        held.answer.catch(() => {}); // awaited below unless the test fails first
        const heldBlob = join(String(running.child.pid), 'req-');
        await waitFor('both uploads to be spooled', async () => {
          const files = await filesUnder(spool);
          return [killed, running].every((server) =>
            files.some((file) => file.startsWith(`${server.child.pid}/`)),
          );
        });
        // SIGKILL: no shutdown runs, so the server's spool directory and its part stay behind.
        killed.child.kill('SIGKILL');
        await killed.exited;

        const app = await startApp();

        for (const [path, content] of Object.entries(foreign)) {
          expect(await readFile(join(spool, path), 'utf8'), path).toBe(content);
        }
        const files = await filesUnder(spool);
        expect(files.filter((file) => file.startsWith(`${killed.child.pid}/`))).toEqual([]);
        expect((await readdir(spool)).filter((name) => name.includes(String(killed.child.pid)))).toEqual([]);
        expect(files.filter((file) => file.startsWith(heldBlob))).toHaveLength(1);
        held.release();
        expect((await held.answer).status).toBe(200);

        await app.close();
        for (const [path, content] of Object.entries(foreign)) {
          expect(await readFile(join(spool, path), 'utf8'), path).toBe(content);
        }
      } finally {
        killed.child.kill('SIGKILL');
        running.child.kill('SIGTERM');
        await Promise.all([killed.exited, running.exited]);
      }
    },
    120_000,
  );

  it('keeps apart two servers with the same pid sharing DATA_DIR (containers), and says what it left alone', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-spool-'));
    try {
      await mkdir(join(directory, 'mail'));
      await writeFile(join(directory, 'mail', 'alice'), 'hello');
      const warnings: string[] = [];
      const logger = {
        info() {},
        warn: (object: object, message: string) => warnings.push(`${message} ${JSON.stringify(object)}`),
      };
      const first = await BlobSpool.open({ directory, maxBytes: KiB, logger });
      const session = await first.begin(10, 'test');
      await writeFile(join(session.directory, 'part-1'), 'in flight');

      // In another PID namespace the second server can have the first one's pid.
      const second = await BlobSpool.open({ directory, maxBytes: KiB, logger });
      expect(await readFile(join(session.directory, 'part-1'), 'utf8')).toBe('in flight');
      const other = await second.begin(10, 'test');
      expect(dirname(other.directory)).not.toBe(dirname(session.directory));
      await other.end();
      await second.close();
      expect(await readFile(join(session.directory, 'part-1'), 'utf8')).toBe('in flight');
      expect(warnings.join('\n')).toMatch(/mail/);

      await session.end();
      await first.close();
      expect(await filesUnder(directory)).toEqual(['mail/alice']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
  it('goes on when its directory and lock file are removed while it runs, and keeps the new ones from the sweep of another server', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-spool-'));
    try {
      const first = await BlobSpool.open({ directory, maxBytes: KiB });
      // A tmp cleaner, or an operator removing spool directories while the server runs.
      for (const name of await readdir(directory)) await rm(join(directory, name), { recursive: true });

      const session = await first.begin(10, 'test');
      await writeFile(join(session.directory, 'part-1'), 'in flight');
      // Its lock file is what the sweep of a later start goes by, should this server crash.
      expect(await readdir(directory)).toContain(`sluice-${basename(dirname(session.directory))}.lock`);
      // Another server starting on the same directory sweeps the spools whose lock is free.
      const second = await BlobSpool.open({ directory, maxBytes: KiB });
      expect(await readFile(join(session.directory, 'part-1'), 'utf8')).toBe('in flight');
      await second.close();
      expect(await readFile(join(session.directory, 'part-1'), 'utf8')).toBe('in flight');

      // Only the directory removed, its lock file kept: the same goes.
      await session.end();
      const spool = dirname(session.directory);
      await rm(spool, { recursive: true });
      const again = await first.begin(10, 'test');
      expect(dirname(again.directory)).toBe(spool);
      await writeFile(join(again.directory, 'part-1'), 'in flight');
      const third = await BlobSpool.open({ directory, maxBytes: KiB });
      expect(await readFile(join(again.directory, 'part-1'), 'utf8')).toBe('in flight');
      await third.close();
      await again.end();

      await first.close();
      expect(await readdir(directory)).toEqual([]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('the blob spool while uploads run', () => {
  /** This process's directory in the server's spool. */
  const spoolOf = (server: TestServer): string => join(server.db.dataDir, 'spool', String(process.pid));
  /** The server as its second source, `other`, sees it. */
  const other = (server: TestServer): TestServer => ({ ...server, apiKey: 'other-key' });

  it('refuses a source more than half the spool with 429 and Retry-After, while another source still stores', async ({
    server,
  }) => {
    const spool = spoolOf(server);
    const holder = makeBlob({ size: 40 * KiB });
    const upload = slowUpload(server, holder);
    upload.answer.catch(() => {}); // awaited below unless the test fails first
    try {
      await waitFor('the first upload to be spooled', async () => (await filesUnder(spool)).length === 1);

      // 40 KiB held and 40 KiB asked: past the source's half of the 100 KiB spool, though the spool has room.
      const before = await rowCounts(server);
      const more = makeBlob({ size: 40 * KiB });
      const refused = await postBlobs<ErrorBody>(server, partsFor([more]));
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await rowCounts(server)).toEqual(before);
      expect(await filesUnder(spool)).toHaveLength(1);

      const theirs = makeBlob({ size: 40 * KiB });
      const stored = await postBlobs(other(server), partsFor([theirs]));
      expect(stored.body.results).toEqual([{ id: theirs.item.id, status: 'stored' }]);
      expect((await stagedBytes(server, theirs.item.id)).equals(theirs.bytes)).toBe(true);

      upload.release();
      expect((await upload.answer).body.results).toEqual([{ id: holder.item.id, status: 'stored' }]);
      const retried = await postBlobs(server, partsFor([more]));
      expect(retried.body.results).toEqual([{ id: more.item.id, status: 'stored' }]);
      expect((await stagedBytes(server, more.item.id)).equals(more.bytes)).toBe(true);
    } finally {
      upload.release();
    }
    expect(await filesUnder(spool)).toEqual([]);
  });

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

  it('stores uploads after the spool directory of this process was removed while it runs', async ({
    server,
  }) => {
    const spool = spoolOf(server);
    expect((await stat(spool)).isDirectory()).toBe(true);
    await rm(spool, { recursive: true });
    const blob = makeBlob({ size: 20 * KiB });
    const answer = await postBlobs(server, partsFor([blob]));
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([{ id: blob.item.id, status: 'stored' }]);
    expect((await stagedBytes(server, blob.item.id)).equals(blob.bytes)).toBe(true);

    // The whole spool directory, lock files included.
    await rm(join(server.db.dataDir, 'spool'), { recursive: true });
    const next = makeBlob({ size: 20 * KiB });
    const stored = await postBlobs(server, partsFor([next]));
    expect(stored.status).toBe(200);
    expect(stored.body.results).toEqual([{ id: next.item.id, status: 'stored' }]);
    expect((await stagedBytes(server, next.item.id)).equals(next.bytes)).toBe(true);
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

    // One request of any size is within a source's share: the spool is full for every source.
    const before = await rowCounts(server);
    const refused = makeBlob({ size: 30 * KiB });
    const answer = await postBlobs<ErrorBody>(other(server), partsFor([refused]));
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rowCounts(server)).toEqual(before);

    // A manifest whose items are all invalid needs no room and is answered.
    const invalid = { ...makeBlob({ size: 10 }), item: { ...makeBlob({ size: 10 }).item, id: 'no spaces' } };
    expect((await postBlobs(server, partsFor([invalid]))).status).toBe(200);

    upload.release();
    expect((await upload.answer).body.results).toEqual([{ id: holder.item.id, status: 'stored' }]);
    const retried = await postBlobs(other(server), partsFor([refused]));
    expect(retried.body.results).toEqual([{ id: refused.item.id, status: 'stored' }]);
    expect(await filesUnder(spool)).toEqual([]);
  });
});
