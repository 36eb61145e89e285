import { type LiveItemEvent, LiveItemEventSchema } from '@sluice/contracts';

/** An open `GET /admin/v1/live` stream, read as the console reads it: fetch with a Bearer header. */
export interface EventStream {
  readonly status: number;
  readonly headers: Headers;
  /** Every `item` event so far. */
  readonly events: LiveItemEvent[];
  /** Comment lines so far (`: heartbeat`). */
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Waits until `check(events)` holds, failing after `timeoutMs`. */
  until(check: (events: LiveItemEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Goes away, as a closed browser tab does. */
  close(): void;
}

/** Opens the live stream of `url` with `key`. */
export async function openEventStream(url: string, key: string): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(`${url}/admin/v1/live`, {
    headers: { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  const events: LiveItemEvent[] = [];
  const comments: string[] = [];
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (block.startsWith(':')) comments.push(block.slice(1).trim());
          const data = /^event: item\ndata: (.*)$/s.exec(block)?.[1];
          if (data !== undefined) events.push(LiveItemEventSchema.parse(JSON.parse(data)));
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    ended,
    async until(check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => controller.abort(),
  };
}
