import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Multipart } from '@fastify/multipart';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServerFault } from '../src/errors.js';
import type { ManifestEntry } from '../src/ingest/blob-manifest.js';
import type { RequestMeter } from '../src/ingest/request-meter.js';

// The spool's disk fails where only a mock can make it fail: closing a written part, removing a bad one.
const faults = vi.hoisted(() => ({ close: false, rm: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const eio = () => Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const close = handle.close.bind(handle);
      handle.close = async () => {
        await close();
        if (faults.close) throw eio();
      };
      return handle;
    },
    rm: async (...args: Parameters<typeof actual.rm>) => {
      if (faults.rm) throw eio();
      return actual.rm(...args);
    },
  };
});

const { receiveBlobParts } = await import('../src/ingest/receive-blob-parts.js');

const meter = { check: () => {} } as unknown as RequestMeter;

/** One file part named `id` with `bytes`, and its manifest entry (whose SHA-256 is `claimed`'s). */
function partAndEntry(bytes: Buffer, claimed: Buffer) {
  const item = {
    id: 'blob-1',
    type: 'shot',
    ts: 1,
    contentType: 'image/png',
    size: claimed.length,
    sha256: createHash('sha256').update(claimed).digest('hex'),
    hash: 'x'.repeat(64),
  };
  const part = { type: 'file', fieldname: 'blob-1', file: Readable.from([bytes]) } as unknown as Multipart;
  const parts = [part][Symbol.iterator]();
  const iterator = { next: async () => parts.next() } as AsyncIterator<Multipart>;
  return { iterator, entries: [{ id: 'blob-1', item } as unknown as ManifestEntry] };
}

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sluice-parts-'));
});
afterEach(async () => {
  faults.close = false;
  faults.rm = false;
  await rm(directory, { recursive: true, force: true });
});

describe('a spool disk fault while receiving blob parts is the server’s (retryable), never the client’s', () => {
  it('closing a written part fails', async () => {
    const bytes = Buffer.from('hello');
    const { iterator, entries } = partAndEntry(bytes, bytes);
    faults.close = true;
    await expect(receiveBlobParts(iterator, entries, meter, directory)).rejects.toBeInstanceOf(ServerFault);
  });

  it('removing a part that did not match its manifest fails', async () => {
    const { iterator, entries } = partAndEntry(Buffer.from('hellp'), Buffer.from('hello'));
    faults.rm = true;
    await expect(receiveBlobParts(iterator, entries, meter, directory)).rejects.toBeInstanceOf(ServerFault);
  });
});
