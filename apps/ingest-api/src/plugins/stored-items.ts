import fp from 'fastify-plugin';
import { LiveFeed } from '../admin/live-feed.js';
import { RateRollup } from '../admin/rate-rollup.js';
import type { StoredItem } from '../admin/stored-item.js';

/** Where the ingest routes report what they stored, for the admin API's live stream and rates. */
export interface StoredItemsFeed {
  readonly live: LiveFeed;
  readonly rates: RateRollup;
  /** Reports items `source` has just stored (not duplicates); costs no query on the caller's path. */
  stored(source: string, items: readonly StoredItem[]): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** See {@link StoredItemsFeed}; present unless `ROLE` is `worker`. */
    storedItems: StoredItemsFeed;
  }
}

/** Options of {@link storedItemsPlugin}. */
export interface StoredItemsPluginOptions {
  /** Stored items per second each process publishes to the live stream. @default 20 */
  readonly livePerSecond?: number;
}

/**
 * Decorates the app with {@link StoredItemsFeed}: a {@link LiveFeed} (listening from start until the
 * app closes) and a {@link RateRollup} (its counts written once more before the database closes).
 */
export const storedItemsPlugin = fp<StoredItemsPluginOptions>(
  async (app, { livePerSecond }) => {
    const live = new LiveFeed(app.db, { publishPerSecond: livePerSecond, logger: app.log });
    const rates = new RateRollup(app.db, { logger: app.log });
    await live.start();
    rates.start();
    // preClose: the database is still open for the last counts and for unlistening.
    app.addHook('preClose', async () => {
      await Promise.all([live.stop(), rates.stop()]);
    });
    app.decorate('storedItems', {
      live,
      rates,
      stored(source: string, items: readonly StoredItem[]) {
        if (items.length === 0) return;
        let bytes = 0;
        for (const item of items) bytes += item.size;
        rates.add(source, items.length, bytes);
        live.offer(source, items);
      },
    } satisfies StoredItemsFeed);
  },
  { name: 'sluice-stored-items', dependencies: ['sluice-db'] },
);
