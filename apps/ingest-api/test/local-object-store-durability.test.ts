import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { blobObjectKey } from '@sluice/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalObjectStore } from '../src/object-store/local-object-store.js';

/** Paths whose file or directory was fsynced, in order: fsync itself is what a power loss tests. */
const synced: string[] = [];
/** An fsync of `path` to hold until `release` settles; `reached` is called when it is asked for. */
let hold: { path: string; reached: () => void; release: Promise<void> } | undefined;

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (...args) => {
    const handle = await fs.open(...args);
    const path = String(args[0]);
    const sync = handle.sync.bind(handle);
    const datasync = handle.datasync.bind(handle);
    handle.sync = async () => {
      const held = hold?.path === path ? hold : undefined;
      if (held !== undefined) {
        hold = undefined;
        held.reached();
        await held.release;
      }
      await sync();
      synced.push(path);
    };
    handle.datasync = async () => {
      await datasync();
      synced.push(path);
    };
    return handle;
  };
  return { ...fs, default: { ...fs, open }, open };
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('local directory object store after a power loss', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
    synced.length = 0;
    hold = undefined;
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('has fsynced every directory it created in its parent before put returns', async () => {
    // DATA_DIR/objects does not exist yet either.
    const store = new LocalObjectStore({ directory: join(root, 'objects') });
    const bytes = randomBytes(1000);
    const key = blobObjectKey(sha256(bytes));
    await store.put(key, bytes, { contentType: 'a/b', sha256: sha256(bytes) });

    const path = join(root, 'objects', key);
    expect(await readFile(path)).toEqual(Buffer.from(bytes));
    // Each entry on the way to the object is durable in its parent: objects in root, blobs in objects, …
    const parents: string[] = [];
    for (let directory = dirname(path); directory !== root; directory = dirname(directory)) {
      parents.push(dirname(directory));
    }
    expect(parents).toHaveLength(key.split('/').length);
    for (const parent of parents) expect(synced, parent).toContain(parent);
    expect(synced).toContain(dirname(path));
  });

  it('fsyncs only the object and its directory when the directories are there', async () => {
    const store = new LocalObjectStore({ directory: root });
    const bytes = randomBytes(1000);
    const key = blobObjectKey(sha256(bytes));
    await store.put(key, bytes, { contentType: 'a/b', sha256: sha256(bytes) });

    synced.length = 0;
    // Put again, as a retried upload does: its directories are there.
    await store.put(key, bytes, { contentType: 'a/b', sha256: sha256(bytes) });
    const path = join(root, key);
    expect(synced.filter((synced) => !synced.startsWith(`${path}.`))).toEqual([dirname(path)]);
    expect(await readFile(path)).toEqual(Buffer.from(bytes));
  });

  it('answers no put before the directories it writes in are fsynced, when another put created them', async () => {
    const store = new LocalObjectStore({ directory: root });
    const [first, second] = [randomBytes(100), randomBytes(100)];
    let release = (): void => {};
    const reached = new Promise<void>((resolve) => {
      hold = { path: root, reached: resolve, release: new Promise((done) => (release = done)) };
    });
    const putFirst = store.put(blobObjectKey(sha256(first)), first, {
      contentType: 'a/b',
      sha256: sha256(first),
    });
    // The first put has created `blobs` and not yet fsynced its entry in the store's directory.
    await reached;
    const putSecond = store
      .put(blobObjectKey(sha256(second)), second, { contentType: 'a/b', sha256: sha256(second) })
      .then(() => synced.push('second put answered'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await Promise.all([putFirst, putSecond]);

    expect(synced).toContain(root);
    expect(synced.indexOf(root)).toBeLessThan(synced.indexOf('second put answered'));
    for (const bytes of [first, second]) {
      expect(await readFile(join(root, blobObjectKey(sha256(bytes))))).toEqual(Buffer.from(bytes));
    }
  });
});
