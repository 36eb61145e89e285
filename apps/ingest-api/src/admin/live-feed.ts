import { type LiveItemEvent, LiveItemEventSchema } from '@sluice/contracts';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { StoredItem } from './stored-item.js';

/** The `NOTIFY` channel on which every API process publishes its sample of stored items. */
export const LIVE_ITEMS_CHANNEL = 'sluice_live_items';

/** The few logger methods the feed uses. */
export interface LiveFeedLogger {
  warn(object: object, message: string): void;
}

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** Stored items per second this process publishes at most; the rest are counted in `skipped`. @default 20 */
  readonly publishPerSecond?: number | undefined;
  /** Milliseconds between publications of the sampled events. @default 100 */
  readonly publishMs?: number | undefined;
  readonly logger?: LiveFeedLogger;
}

// A NOTIFY payload must stay under 8000 bytes; events go at most ten at a time, fewer when they are long.
const EVENTS_PER_NOTIFY = 10;
const MAX_NOTIFY_BYTES = 7900;

/**
 * Takes from the front of `outbox` the events of one NOTIFY payload: at most {@link EVENTS_PER_NOTIFY}, and
 * never more bytes than PostgreSQL allows (a source, id and type of the longest legal length make about
 * 830 bytes of JSON an event). Returns the payload text and how many events it holds.
 */
export function nextNotifyPayload(outbox: readonly LiveItemEvent[]): { text: string; count: number } {
  let text = '';
  let bytes = 2;
  let count = 0;
  for (const event of outbox) {
    if (count === EVENTS_PER_NOTIFY) break;
    const one = JSON.stringify(event);
    const size = Buffer.byteLength(one) + (count === 0 ? 0 : 1);
    if (count > 0 && bytes + size > MAX_NOTIFY_BYTES) break;
    text += count === 0 ? one : `,${one}`;
    bytes += size;
    count += 1;
  }
  return { text: `[${text}]`, count };
}
const MAX_OUTBOX = 100;

const PayloadSchema = z.array(LiveItemEventSchema).max(EVENTS_PER_NOTIFY);

/**
 * The sample of stored items that `GET /admin/v1/live` streams. Each process samples what its routes
 * store to at most `publishPerSecond` events (a token bucket; `skipped` counts what was left out before
 * each event) and publishes them with `NOTIFY`, a few per statement; every process listens and hands
 * them to its subscribers, so a subscriber sees the items of every process. On PGlite only the own
 * process publishes. Nothing here grows with traffic: the outbox is bounded and a full one counts as skipped.
 */
export class LiveFeed {
  readonly #db: Database;
  readonly #rate: number;
  readonly #publishMs: number;
  readonly #log: LiveFeedLogger | undefined;
  readonly #subscribers = new Set<(event: LiveItemEvent) => void>();
  #tokens: number;
  #refilledAt = Date.now();
  #skipped = 0;
  #outbox: LiveItemEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #publishing: Promise<void> = Promise.resolve();
  #unlisten: (() => Promise<void>) | undefined;

  constructor(db: Database, options: LiveFeedOptions = {}) {
    this.#db = db;
    this.#rate = options.publishPerSecond ?? 20;
    this.#publishMs = options.publishMs ?? 100;
    this.#log = options.logger;
    this.#tokens = this.#rate;
  }

  /** Starts listening for every process's events and publishing this one's. */
  async start(): Promise<void> {
    this.#unlisten = await this.#db.listen(LIVE_ITEMS_CHANNEL, (payload) => this.#receive(payload));
    this.#timer = setInterval(() => {
      this.#publishing = this.#publishing.then(() => this.#publish());
    }, this.#publishMs);
    this.#timer.unref();
  }

  /** Offers items `source` has just stored; a sample of them is published. */
  offer(source: string, items: readonly StoredItem[], receivedAt = Date.now()): void {
    // Embedded, only this process listens: with nobody watching, publishing would only take the one connection.
    if (this.#db.kind === 'pglite' && this.#subscribers.size === 0) return;
    const elapsed = (receivedAt - this.#refilledAt) / 1000;
    this.#refilledAt = receivedAt;
    this.#tokens = Math.min(this.#rate, this.#tokens + Math.max(0, elapsed) * this.#rate);
    for (const item of items) {
      if (this.#tokens < 1 || this.#outbox.length >= MAX_OUTBOX) {
        this.#skipped += 1;
        continue;
      }
      this.#tokens -= 1;
      this.#outbox.push({
        source,
        id: item.id,
        kind: item.kind,
        type: item.type,
        status: 'stored',
        size: item.size,
        receivedAt,
        skipped: this.#skipped,
      });
      this.#skipped = 0;
    }
  }

  /**
   * Calls `listener` for every event any process publishes, until the returned function is called.
   * The listener must not block: it is called from the notification handler.
   */
  subscribe(listener: (event: LiveItemEvent) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  /** How many listeners are subscribed in this process. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  async #publish(): Promise<void> {
    while (this.#outbox.length > 0) {
      const { text, count } = nextNotifyPayload(this.#outbox);
      const events = this.#outbox.splice(0, count);
      try {
        const sent = await this.#db.queryIfIdle('select pg_notify($1, $2)', [LIVE_ITEMS_CHANNEL, text]);
        // A busy pool serves requests first; these events become a gap the next one reports.
        if (sent === undefined) {
          this.#skipped += events.reduce((sum, event) => sum + 1 + event.skipped, 0);
          return;
        }
      } catch (error) {
        // A lost sample is only a gap in a preview; the next event says how many were left out.
        this.#skipped += events.reduce((sum, event) => sum + 1 + event.skipped, 0);
        this.#log?.warn({ err: error }, 'could not publish live items');
        return;
      }
    }
  }

  #receive(payload: string): void {
    let events: LiveItemEvent[];
    try {
      const parsed = PayloadSchema.safeParse(JSON.parse(payload));
      if (!parsed.success) return;
      events = parsed.data;
    } catch {
      return;
    }
    for (const event of events) for (const listener of this.#subscribers) listener(event);
  }

  /** Stops publishing and listening; subscribers get nothing more. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#publishing;
    this.#subscribers.clear();
    await this.#unlisten?.();
  }
}
