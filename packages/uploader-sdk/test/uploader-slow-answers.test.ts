import { describe, expect, it } from './support/fixtures.js';
import { waitFor } from './support/harness.js';
import { batchIds, sendJson, startScriptedServer, storeOnce } from './support/scripted-server.js';

describe('an answer whose body trickles after its headers', () => {
  it('times out like any request: the items are sent again and the lane keeps moving', async ({
    cleanup,
    openUploader,
  }) => {
    const stored = new Map<string, number>();
    let trickled = 0;
    const server = await startScriptedServer((request, response) => {
      if (request.path !== '/v1/batch') return sendJson(response, 404, {});
      const ids = batchIds(request);
      // The items are stored; only the answer is slow (as behind a congested proxy).
      const answer = storeOnce(ids, stored);
      const text = JSON.stringify(answer);
      if (trickled > 0) return sendJson(response, 200, answer);
      trickled += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < text.length - 1) response.write(text[sent++]);
      }, 1000);
      response.on('close', () => clearInterval(timer));
    });
    cleanup.add(() => server.close());
    const { uploader } = await openUploader({ endpoint: server.url, requestTimeoutMs: 500 });
    const first = await uploader.enqueue({ type: 'slow', data: { n: 1 } });
    await waitFor(() => trickled > 0);
    const second = await uploader.enqueue({ type: 'slow', data: { n: 2 } });

    const result = await uploader.flush({ timeoutMs: 8000 });
    expect(result.complete).toBe(true);
    expect(uploader.stats()).toMatchObject({ queued: 0, inFlight: 0, delivered: 2, dead: 0 });
    // Sent twice (the first answer never came whole), delivered once.
    expect(stored.get(first.id)).toBe(2);
    expect(stored.get(second.id)).toBe(1);
  });
});
