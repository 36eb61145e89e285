import type { Rates } from '@sluice/contracts';
import type { Database } from '../db/database.js';

/** The few logger methods the rollup uses. */
export interface RollupLogger {
  warn(object: object, message: string): void;
}

/** Options of {@link RateRollup}. */
export interface RateRollupOptions {
  /** Milliseconds between writes of this process's counts. @default 1000 */
  readonly flushMs?: number;
  /** Milliseconds of history kept and answered. @default 3600000 (one hour) */
  readonly windowMs?: number;
  readonly logger?: RollupLogger;
}

const MINUTE_MS = 60_000;

interface Pending {
  readonly source: string;
  readonly minute: number;
  items: number;
  bytes: number;
}

// Rows in (source, minute) order, so that processes flushing at once lock rows in the same order and
// cannot deadlock; each process adds its own counts.
const UPSERT_SQL = `
insert into item_rates (source, minute, items, bytes)
select s, to_timestamp(m / 1000.0), i, b
  from unnest($1::text[], $2::float8[], $3::bigint[], $4::bigint[]) as u(s, m, i, b)
 order by s, m
on conflict (source, minute) do update
   set items = item_rates.items + excluded.items, bytes = item_rates.bytes + excluded.bytes`;

const PRUNE_SQL = `delete from item_rates where minute < to_timestamp($1::float8 / 1000.0)`;

const READ_SQL = `
select source, (extract(epoch from minute) * 1000)::float8 as minute, items::float8 as items, bytes::float8 as bytes
  from item_rates where minute >= to_timestamp($1::float8 / 1000.0)
 order by source, minute`;

/**
 * Items and bytes stored per source per minute, for `GET /admin/v1/rates`. Routes add to counters in
 * memory (no query on the ingest path); about once a second one statement adds them to the `item_rates`
 * table, which every API process shares, so the rates cover the whole deployment. A crash loses at
 * most the last second's counts. Rows older than twice the window are deleted now and then.
 */
export class RateRollup {
  readonly #db: Database;
  readonly #flushMs: number;
  readonly #windowMs: number;
  readonly #log: RollupLogger | undefined;
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #lastPrune = 0;

  constructor(db: Database, options: RateRollupOptions = {}) {
    this.#db = db;
    this.#flushMs = options.flushMs ?? 1000;
    this.#windowMs = options.windowMs ?? 60 * MINUTE_MS;
    this.#log = options.logger;
  }

  /** Counts `items` items of `bytes` bytes stored for `source` now. */
  add(source: string, items: number, bytes: number, now = Date.now()): void {
    if (items === 0) return;
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const key = `${source}\u0000${minute}`;
    const entry = this.#pending.get(key);
    if (entry === undefined) this.#pending.set(key, { source, minute, items, bytes });
    else {
      entry.items += items;
      entry.bytes += bytes;
    }
  }

  /** Starts writing the counts every `flushMs`. */
  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.#flushMs);
    this.#timer.unref();
  }

  /**
   * Writes the counts added so far (after any write in progress). A failed write keeps them for the
   * next one, as long as they are inside the window.
   */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const now = Date.now();
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    try {
      // Background work runs only on an idle connection: a busy pool serves requests first.
      if (batch.length > 0) {
        const written = await this.#db.queryIfIdle(UPSERT_SQL, [
          batch.map((entry) => entry.source),
          batch.map((entry) => entry.minute),
          batch.map((entry) => entry.items),
          batch.map((entry) => entry.bytes),
        ]);
        if (written === undefined) {
          this.#keep(batch, now);
          return;
        }
      }
      if (now - this.#lastPrune > 5 * MINUTE_MS) {
        if ((await this.#db.queryIfIdle(PRUNE_SQL, [now - 2 * this.#windowMs])) !== undefined) {
          this.#lastPrune = now;
        }
      }
    } catch (error) {
      this.#log?.warn({ err: error }, 'could not write the item rates; keeping them for the next write');
      this.#keep(batch, now);
    }
  }

  /** Puts counts that were not written back, for the next write (those older than the window go). */
  #keep(
    batch: readonly { source: string; minute: number; items: number; bytes: number }[],
    now: number,
  ): void {
    for (const entry of batch) {
      if (entry.minute < now - this.#windowMs) continue;
      this.add(entry.source, entry.items, entry.bytes, entry.minute);
    }
  }

  /** Every source's items and bytes per minute over the window, the current minute last. */
  async read(now = Date.now()): Promise<Rates> {
    await this.flush();
    const buckets = Math.ceil(this.#windowMs / MINUTE_MS);
    const from = Math.floor(now / MINUTE_MS) * MINUTE_MS - (buckets - 1) * MINUTE_MS;
    const rows = await this.#db.query<{ source: string; minute: number; items: number; bytes: number }>(
      READ_SQL,
      [from],
    );
    const bySource = new Map<string, { source: string; items: number[]; bytes: number[] }>();
    for (const row of rows) {
      const index = Math.round((Number(row.minute) - from) / MINUTE_MS);
      if (index < 0 || index >= buckets) continue;
      let series = bySource.get(row.source);
      if (series === undefined) {
        series = { source: row.source, items: Array(buckets).fill(0), bytes: Array(buckets).fill(0) };
        bySource.set(row.source, series);
      }
      series.items[index] = Number(row.items);
      series.bytes[index] = Number(row.bytes);
    }
    return { bucketMs: MINUTE_MS, from, sources: [...bySource.values()] };
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
