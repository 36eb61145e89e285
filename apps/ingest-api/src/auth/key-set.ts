import type { Database } from '../db/database.js';
import { KEY_CHANGES_CHANNEL } from './api-keys.js';

/** The few logger methods the key set uses. */
export interface KeySetLogger {
  warn(object: object, message: string): void;
}

/** Options of {@link ApiKeySet}. */
export interface ApiKeySetOptions {
  /**
   * Milliseconds between reloads that happen without a notification: the safety net for a lost
   * `LISTEN` connection. @default 5000
   */
  readonly refreshMs?: number | undefined;
  /** Called before every read of the keys table, e.g. to count them. */
  readonly onLoad?: () => void;
  readonly logger?: KeySetLogger;
}

const LOAD_SQL = 'select key_hash, source from api_keys where not disabled and revoked_at is null';

/**
 * Every valid key hash of the database, held in memory so that authenticating a request never queries
 * the database: an unknown key, however many of them a flood brings, costs one map lookup, and no request
 * can push a valid key out. It is reloaded when a key changes (`NOTIFY` on {@link KEY_CHANGES_CHANNEL},
 * sent by `sources:create`, `sources:revoke` and the start-up reconciliation; PostgreSQL delivers it to
 * every instance), when listening starts again after the connection was lost, and every `refreshMs`.
 * Memory grows with the number of valid keys (about 200 bytes each), which the operator controls.
 */
export class ApiKeySet {
  readonly #db: Database;
  readonly #refreshMs: number;
  readonly #onLoad: () => void;
  readonly #log: KeySetLogger | undefined;
  #keys = new Map<string, string>();
  #loading: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #stopped = false;
  #failed: unknown;

  constructor(db: Database, options: ApiKeySetOptions = {}) {
    this.#db = db;
    this.#refreshMs = options.refreshMs ?? 5000;
    this.#onLoad = options.onLoad ?? (() => {});
    this.#log = options.logger;
  }

  /**
   * Starts listening for changes and loads the keys.
   * @throws when the first load fails.
   */
  async start(): Promise<void> {
    this.#unlisten = await this.#db.listen(
      KEY_CHANGES_CHANNEL,
      () => void this.reload(),
      () => void this.reload(),
    );
    await this.reload();
    if (this.#failed !== undefined) throw this.#failed;
    this.#timer = setInterval(() => this.reload(), this.#refreshMs);
    this.#timer.unref();
  }

  /** The source of a valid key's hash, or `undefined`. */
  sourceOf(keyHash: string): string | undefined {
    return this.#keys.get(keyHash);
  }

  /**
   * Reads the valid keys again. A request while a read runs schedules one more read after it, since the
   * running one may have started before the change it was asked for. Failures keep the keys known so far.
   */
  reload(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#loading !== undefined) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          this.#onLoad();
          const rows = await this.#db.query<{ key_hash: string; source: string }>(LOAD_SQL);
          this.#keys = new Map(rows.map((row) => [row.key_hash, row.source]));
          this.#failed = undefined;
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.#failed = error;
        this.#log?.warn({ err: error }, 'could not reload the API keys; keeping the ones loaded before');
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** Stops listening and reloading. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#unlisten?.();
    await this.#loading;
  }
}
