import type { IngestResponse } from '@sluice/contracts';
import { makeBlob, multipartBody, partsFor } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

// One database connection, and requests give up waiting for it after 300 ms.
it.override({ serverOverrides: { db: { poolSize: 1, acquireTimeoutMs: 300 } } });

describe('a slow blob upload', () => {
  it('holds no database connection while its bytes trickle in, so records are stored meanwhile', async ({
    server,
  }) => {
    const blobs = [makeBlob({ size: 40_000 }), makeBlob({ size: 40_000 })];
    const { body, contentType } = multipartBody(partsFor(blobs));
    const pieces = 12;
    const pieceSize = Math.ceil(body.length / pieces);
    let sent = 0;
    let blobAnswered = false;
    const upload = fetch(`${server.url}/v1/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': contentType },
      duplex: 'half',
      body: new ReadableStream({
        async pull(controller) {
          // About 1.2 s for the whole body: far longer than a request may wait for the connection.
          await new Promise((resolve) => setTimeout(resolve, 100));
          controller.enqueue(new Uint8Array(body.subarray(sent * pieceSize, (sent + 1) * pieceSize)));
          sent += 1;
          if (sent === pieces) controller.close();
        },
      }),
    } as RequestInit & { duplex: 'half' }).then(async (response) => {
      blobAnswered = true;
      return { status: response.status, body: (await response.json()) as IngestResponse };
    });

    // Wait until the first blob part is surely being received.
    while (sent < 6) await new Promise((resolve) => setTimeout(resolve, 20));
    const batch = await postBatch(server, { items: [record(`during-upload-${Date.now()}`)] });
    expect(blobAnswered).toBe(false);
    expect(batch.status).toBe(200);
    expect(batch.body.counts.stored).toBe(1);

    const result = await upload;
    expect(result.status).toBe(200);
    expect(result.body.counts.stored).toBe(2);
  });
});
