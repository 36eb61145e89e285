import type { LiveItemEvent } from '@sluice/contracts';
import { describe, expect, it } from 'vitest';
import { type AdminClient, ApiError } from '../src/api.js';
import { followLive, type LiveState } from '../src/live-stream.js';

const event = (id: string): LiveItemEvent => ({
  source: 'web',
  id,
  kind: 'record',
  type: 'click',
  status: 'stored',
  size: 2,
  receivedAt: 1_700_000_000_000,
  skipped: 0,
});

/** A stream body that sends `chunks` and ends. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

/** An admin client whose `fetch` answers each call with the next of `answers`. */
function clientAnswering(answers: (() => Response)[]): AdminClient & { calls: number } {
  const fake = {
    calls: 0,
    async fetch() {
      const answer = answers[fake.calls] ?? answers[answers.length - 1]!;
      fake.calls += 1;
      return answer();
    },
  };
  return fake as unknown as AdminClient & { calls: number };
}

describe('the live stream reader', () => {
  it('passes on valid item events, skips malformed ones, and reconnects when the stream ends', async () => {
    const controller = new AbortController();
    const events: string[] = [];
    const states: LiveState[] = [];
    const client = clientAnswering([
      () =>
        new Response(
          body([
            `: hello\n\nevent: item\ndata: ${JSON.stringify(event('a'))}\n\n`,
            'event: item\ndata: {not json\n\n',
            `event: item\ndata: ${JSON.stringify({ ...event('b'), id: '<bad id>' })}\n\n`,
          ]),
        ),
      () => new Response(body([`event: item\ndata: ${JSON.stringify(event('c'))}\n\n`])),
    ]);
    const done = followLive(client, controller.signal, {
      onEvent: (e) => {
        events.push(e.id);
        if (e.id === 'c') controller.abort();
      },
      onState: (s) => states.push(s),
      onUnauthorized: () => events.push('unauthorized'),
    });
    await done;
    expect(events).toEqual(['a', 'c']);
    expect(client.calls).toBe(2);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'reconnecting', 'open']);
  });

  it('stops and reports a refused admin key instead of retrying', async () => {
    const controller = new AbortController();
    const client = clientAnswering([
      () => {
        throw new ApiError(401, 'UNAUTHORIZED', 'bad admin key');
      },
    ]);
    let unauthorized = 0;
    await followLive(client, controller.signal, {
      onEvent: () => {},
      onState: () => {},
      onUnauthorized: () => {
        unauthorized += 1;
      },
    });
    expect(unauthorized).toBe(1);
    expect(client.calls).toBe(1);
  });
});
