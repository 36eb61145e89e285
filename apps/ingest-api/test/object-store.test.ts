import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobObjectKey } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../src/object-store/local-object-store.js';
import { isObjectStoreError, type ObjectStoreError } from '../src/object-store/object-store-error.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { objectStoreSuite } from './object-store-suite.js';
import { startS3Server } from './support/s3-server.js';
import { startScriptedS3 } from './support/scripted-s3.js';

objectStoreSuite('local directory', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
  return {
    store: new LocalObjectStore({ directory }),
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
});

objectStoreSuite('S3 (s3rver)', async () => {
  const server = await startS3Server();
  return {
    store: new S3ObjectStore(server.storeOptions()),
    keepsPartialObjects: true,
    dispose: () => server.close(),
  };
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('local directory object store on disk', () => {
  it('leaves only the finished object behind, at its key, with no temp files', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-objects-'));
    try {
      const store = new LocalObjectStore({ directory });
      const bytes = randomBytes(2048);
      const key = blobObjectKey(sha256(bytes));
      await Promise.all(
        [1, 2, 3].map(() => store.put(key, bytes, { contentType: 'a/b', sha256: sha256(bytes) })),
      );
      expect(await listFiles(directory)).toEqual([join(directory, key)]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('S3 object store when the server goes away', () => {
  it('fails with ObjectStoreError while the server is down and works again, objects intact, once it returns', async () => {
    const server = await startS3Server();
    const store = new S3ObjectStore(server.storeOptions());
    try {
      const before = randomBytes(1000);
      const beforeKey = blobObjectKey(sha256(before));
      await store.put(beforeKey, before, { contentType: 'a/b', sha256: sha256(before) });

      await server.stop();
      const during = randomBytes(1000);
      const duringKey = blobObjectKey(sha256(during));
      const failure = await store.put(duringKey, during, { contentType: 'a/b', sha256: sha256(during) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isObjectStoreError(failure)).toBe(true);
      await expect(store.head(beforeKey)).rejects.toThrow(/head/);

      await server.start();
      await store.put(duringKey, during, { contentType: 'a/b', sha256: sha256(during) });
      expect(sha256((await store.get(beforeKey))!)).toBe(sha256(before));
      expect(sha256((await store.get(duringKey))!)).toBe(sha256(during));
    } finally {
      await store.close();
      await server.close();
    }
  });
});

describe('S3 object store reading from an offset', () => {
  // A store (or a proxy in front of it) that ignores Range answers 200 with the whole object: those bytes
  // must not be taken for the rest of it, which would append the start of the object to a download.
  it('refuses an answer that is not the range asked for', async () => {
    const body = randomBytes(1000);
    const s3 = await startScriptedS3((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      response.end(body);
    });
    try {
      const key = blobObjectKey(sha256(body));
      const failure = await s3.store.getStream(key, { start: 10 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isObjectStoreError(failure)).toBe(true);
      // From the start no range is asked for, and the whole object is the answer.
      const whole = await s3.store.getStream(key);
      const chunks: Buffer[] = [];
      for await (const chunk of whole ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
    } finally {
      await s3.close();
    }
  });
});

describe('S3 object store refused by its credentials (HTTP 403)', () => {
  it('names the permission to grant in the error, but not when S3 does not know the credentials', async () => {
    let code = 'AccessDenied';
    const s3 = await startScriptedS3((request, response) => {
      request.resume();
      response.statusCode = 403;
      // HEAD answers carry no body, so no error code either.
      if (request.method === 'HEAD') return response.end();
      response.setHeader('content-type', 'application/xml');
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`,
      );
    });
    const { store } = s3;
    const failureOf = (operation: Promise<unknown>) =>
      operation.then(
        () => undefined,
        (error: unknown) => error as ObjectStoreError,
      );
    try {
      const bytes = randomBytes(100);
      const key = blobObjectKey(sha256(bytes));
      const put = () => store.put(key, bytes, { contentType: 'a/b', sha256: sha256(bytes) });

      const refused = await failureOf(put());
      expect(isObjectStoreError(refused)).toBe(true);
      expect(refused?.deniedPermission).toBe('s3:PutObject');
      expect(refused?.message).toMatch(/access denied: the credentials need s3:PutObject/);
      // Without s3:ListBucket a missing object is answered 403 too: the error says both.
      const head = await failureOf(store.head(key));
      expect(head?.deniedPermission).toMatch(/s3:GetObject.*s3:ListBucket/);

      code = 'InvalidAccessKeyId';
      const unknown = await failureOf(put());
      expect(isObjectStoreError(unknown)).toBe(true);
      expect(unknown?.deniedPermission).toBeUndefined();
      expect(unknown?.message).not.toMatch(/s3:PutObject/);
    } finally {
      await s3.close();
    }
  });
});
