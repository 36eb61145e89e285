import { createHash, randomBytes } from 'node:crypto';
import { blobObjectKey } from '@sluice/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../src/object-store/object-store.js';
import { InvalidObjectKeyError } from '../src/object-store/object-store-error.js';

/** A store under test and how to dispose of it. */
export interface StoreFixture {
  readonly store: ObjectStore;
  /**
   * The store keeps the bytes it received of an aborted PUT (s3rver does; S3 and MinIO do not). The
   * worker copes: it takes an object for done only when its size matches, and overwrites it otherwise.
   */
  readonly keepsPartialObjects?: boolean;
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
      expect(await store.getStream(key)).toBeUndefined();
    });

    it('streams back exactly the bytes it stored', async () => {
      const bytes = randomBytes(300_000);
      const key = blobObjectKey(sha256(bytes));
      await store.put(key, bytes, { contentType: 'application/octet-stream', sha256: sha256(bytes) });
      const stream = await store.getStream(key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
    });

    it('streams the bytes from an offset to the end', async () => {
      const bytes = randomBytes(300_000);
      const key = blobObjectKey(sha256(bytes));
      await store.put(key, bytes, { contentType: 'application/octet-stream', sha256: sha256(bytes) });
      for (const start of [1, 123_457, 299_999]) {
        const chunks: Buffer[] = [];
        for await (const chunk of (await store.getStream(key, { start })) ?? []) {
          chunks.push(Buffer.from(chunk as Uint8Array));
        }
        expect(Buffer.concat(chunks).equals(bytes.subarray(start))).toBe(true);
      }
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

    it('stores an object streamed in chunks, never given whole', async () => {
      const parts = [randomBytes(300_000), randomBytes(1), randomBytes(700_000)];
      const whole = Buffer.concat(parts);
      const key = blobObjectKey(sha256(whole));
      async function* chunks() {
        yield* parts;
      }
      await store.put(
        key,
        { size: whole.length, chunks: chunks() },
        { contentType: 'application/octet-stream', sha256: sha256(whole) },
      );
      expect(await store.head(key)).toEqual({ size: whole.length });
      expect(sha256((await store.get(key))!)).toBe(sha256(whole));
    });

    it('stores nothing when the stream of chunks fails before its end', async () => {
      const parts = [randomBytes(200_000), randomBytes(200_000)];
      const whole = Buffer.concat(parts);
      const key = blobObjectKey(sha256(whole));
      async function* chunks() {
        yield parts[0]!;
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('staged bytes are corrupt');
      }
      await expect(
        store.put(
          key,
          { size: whole.length, chunks: chunks() },
          { contentType: 'application/octet-stream', sha256: sha256(whole) },
        ),
      ).rejects.toThrow(/put/);
      const left = await store.head(key);
      if (fixture.keepsPartialObjects === true) expect(left?.size ?? 0).toBeLessThan(whole.length);
      else expect(left).toBeUndefined();
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
