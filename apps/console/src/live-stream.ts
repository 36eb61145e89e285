import { ADMIN_PATHS, type LiveItemEvent, LiveItemEventSchema } from '@sluice/contracts';
import { useEffect, useRef, useState } from 'react';
import { type AdminClient, isUnauthorized } from './api.js';
import { reconnectDelayMs, SseParser } from './sse.js';

/** Connection state of the live stream. */
export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'paused';

/** How many events the live view keeps. */
export const LIVE_LIMIT = 200;

/**
 * Reads `GET /admin/v1/live` with fetch (EventSource cannot send the admin key) until `signal` aborts,
 * calling `onEvent` per valid `item` event and reconnecting with backoff when the stream ends or fails.
 * A refused key stops it through `onUnauthorized`.
 */
export async function followLive(
  client: AdminClient,
  signal: AbortSignal,
  handlers: {
    onEvent(event: LiveItemEvent): void;
    onState(state: LiveState): void;
    onUnauthorized(): void;
  },
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    handlers.onState(failures === 0 ? 'connecting' : 'reconnecting');
    try {
      const response = await client.fetch(ADMIN_PATHS.live, {
        signal,
        headers: { accept: 'text/event-stream' },
      });
      if (response.body === null) throw new Error('no stream body');
      handlers.onState('open');
      failures = 0;
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.event !== 'item') continue;
          try {
            const parsed = LiveItemEventSchema.safeParse(JSON.parse(event.data));
            if (parsed.success) handlers.onEvent(parsed.data);
          } catch {
            // A malformed event is skipped; the stream goes on.
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (isUnauthorized(error)) {
        handlers.onUnauthorized();
        return;
      }
    }
    if (signal.aborted) return;
    failures += 1;
    handlers.onState('reconnecting');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, reconnectDelayMs(failures));
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** The newest {@link LIVE_LIMIT} live events (newest first) and the connection state, while `enabled`. */
export function useLiveStream(
  client: AdminClient,
  enabled: boolean,
  onUnauthorized: () => void,
): { events: LiveItemEvent[]; state: LiveState; clear(): void } {
  const [events, setEvents] = useState<LiveItemEvent[]>([]);
  const [state, setState] = useState<LiveState>('connecting');
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    if (!enabled) {
      setState('paused');
      return;
    }
    const controller = new AbortController();
    void followLive(client, controller.signal, {
      onEvent: (event) => setEvents((list) => [event, ...list].slice(0, LIVE_LIMIT)),
      onState: setState,
      onUnauthorized: () => unauthorized.current(),
    });
    return () => controller.abort();
  }, [client, enabled]);

  return { events, state, clear: () => setEvents([]) };
}
