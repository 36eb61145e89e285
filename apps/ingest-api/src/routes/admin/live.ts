import type { ServerResponse } from 'node:http';
import { type LiveItemEvent, ROUTES } from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../admin/parse-input.js';

/** Options of {@link adminLiveRoutes}. */
export interface AdminLiveRoutesOptions {
  /** Events per second one stream sends at most. @default 20 */
  readonly eventsPerSecond?: number | undefined;
  /** Milliseconds between heartbeat comments. @default 15000 */
  readonly heartbeatMs?: number | undefined;
}

const LiveQuerySchema = z.strictObject({});

/**
 * `GET /admin/v1/live`: server-sent events (`event: item`, data a `LiveItemEvent`) of the items every
 * process stores, as sampled by the live feed, then throttled per stream to `eventsPerSecond` (a token
 * bucket). Nothing is queued for a stream: an event that finds the stream over its rate or its socket
 * still full is dropped and counted in the next event's `skipped`, so a slow reader costs no memory.
 * A comment line every `heartbeatMs` keeps proxies from closing an idle stream. Streams end when the
 * client goes away and when the app closes, which therefore never waits for them.
 */
export const adminLiveRoutes: FastifyPluginAsync<AdminLiveRoutesOptions> = async (
  app,
  { eventsPerSecond = 20, heartbeatMs = 15_000 },
) => {
  /** Each open stream and what stops feeding it. */
  const open = new Map<ServerResponse, () => void>();
  app.addHook('preClose', async () => {
    for (const [response, stop] of open) {
      stop();
      response.end();
    }
  });

  app.get(ROUTES.adminLive.path, async (request, reply) => {
    parseInput(LiveQuerySchema, request.query, 'query');
    const response = reply.raw;
    reply.hijack();
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
      connection: 'close',
    });
    response.write(': connected\n\n');

    let tokens = eventsPerSecond;
    let refilledAt = Date.now();
    let skipped = 0;
    const send = (event: LiveItemEvent): void => {
      const now = Date.now();
      tokens = Math.min(eventsPerSecond, tokens + ((now - refilledAt) / 1000) * eventsPerSecond);
      refilledAt = now;
      if (response.writableEnded || response.destroyed) return;
      if (tokens < 1 || response.writableNeedDrain) {
        skipped += 1 + event.skipped;
        return;
      }
      tokens -= 1;
      const data: LiveItemEvent = { ...event, skipped: skipped + event.skipped };
      skipped = 0;
      response.write(`event: item\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = app.storedItems.live.subscribe(send);
    const heartbeat = setInterval(() => {
      if (!response.writableNeedDrain && !response.writableEnded) response.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();
    const stop = () => {
      unsubscribe();
      clearInterval(heartbeat);
      open.delete(response);
    };
    open.set(response, stop);
    response.once('close', stop);
    // A reset connection is the client leaving, nothing to answer.
    response.on('error', (error) => request.log.debug({ err: error }, 'live stream error'));
    request.log.info('live stream opened');
  });
};
