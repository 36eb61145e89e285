import { createHash, randomBytes } from 'node:crypto';
import { blobObjectKey } from '@sluice/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../src/object-store/object-store.js';
import { InvalidObjectKeyError } from '../src/object-store/object-store-error.js';

/** A store under test and how to dispose of it. */
export interface StoreFixture {
  readonly store: ObjectStore;
  dispose(): Promise<void>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The behaviour every object store adapter must have; run once per adapter. */
export function objectStoreSuite(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`${name} object store`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fixture = await setup();
      store = fixture.store;
    });
    afterAll(async () => {
      await store.close();
      await fixture.dispose();
    });

    it('reads back exactly the bytes it stored, under a content-addressed key', async () => {
      const bytes = randomBytes(100_000);
      const key = blobObjectKey(sha256(bytes));
      await store.put(key, bytes, { contentType: 'application/octet-stream', sha256: sha256(bytes) });
      expect(await store.head(key)).toEqual({ size: bytes.length });
      const read = await store.get(key);
      expect(read).toBeDefined();
      expect(sha256(read!)).toBe(sha256(bytes));
    });

    it('answers undefined for an object that does not exist', async () => {
      const key = blobObjectKey(sha256(randomBytes(8)));
      expect(await store.head(key)).toBeUndefined();
      expect(await store.get(key)).toBeUndefined();
    });

    it('stores an empty object', async () => {
      const bytes = new Uint8Array();
      const key = blobObjectKey(sha256(bytes));
      await store.put(key, bytes, { contentType: 'text/plain', sha256: sha256(bytes) });
      expect(await store.head(key)).toEqual({ size: 0 });
      expect((await store.get(key))?.length).toBe(0);
    });

    it('treats a repeated put of the same key as harmless', async () => {
      const bytes = randomBytes(4096);
      const key = blobObjectKey(sha256(bytes));
      const options = { contentType: 'image/png', sha256: sha256(bytes) };
      await store.put(key, bytes, options);
      await store.put(key, bytes, options);
      await Promise.all([store.put(key, bytes, options), store.put(key, bytes, options)]);
      expect(sha256((await store.get(key))!)).toBe(sha256(bytes));
    });

    it('round-trips a multi-megabyte object intact', async () => {
      const bytes = randomBytes(6 * 1024 * 1024);
      const key = blobObjectKey(sha256(bytes));
      await store.put(key, bytes, { contentType: 'video/mp4', sha256: sha256(bytes) });
      expect(await store.head(key)).toEqual({ size: bytes.length });
      expect(sha256((await store.get(key))!)).toBe(sha256(bytes));
    });

    it('refuses keys that could escape its namespace and writes nothing', async () => {
      const bytes = randomBytes(16);
      for (const key of ['../escape', '/absolute', 'a/../../b', '', 'a//b', 'a/./b']) {
        await expect(
          store.put(key, bytes, { contentType: 'text/plain', sha256: sha256(bytes) }),
        ).rejects.toThrow(InvalidObjectKeyError);
      }
      await expect(store.head('../escape')).rejects.toThrow(InvalidObjectKeyError);
    });

    it('stops an upload whose signal is already aborted', async () => {
      const bytes = randomBytes(1024);
      const key = blobObjectKey(sha256(bytes));
      const controller = new AbortController();
      controller.abort(new Error('lease ran out'));
      await expect(
        store.put(key, bytes, {
          contentType: 'text/plain',
          sha256: sha256(bytes),
          signal: controller.signal,
        }),
      ).rejects.toThrow(/put/);
      expect(await store.head(key)).toBeUndefined();
    });
  });
}
