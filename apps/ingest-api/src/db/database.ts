import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { DbConfig } from '../config.js';
import { DatabaseStartError, MigrationsMissingError } from '../errors.js';
import { asUnavailable, sqlStateOf } from './connection-errors.js';
import { DiskRoom } from './disk-room.js';
import {
  discardCreation,
  embeddedDirectoryState,
  finishCreating,
  startCreating,
} from './embedded-directory.js';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { copyEmbeddedTemplate, embeddedTemplatePath } from './embedded-template.js';
import { Gate } from './gate.js';
import { migrationsFolder, shippedMigrationCount } from './migrations-folder.js';
import * as schema from './schema/index.js';

/** The Drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A Drizzle transaction, whichever driver is underneath. */
export type DbTransaction = PgTransaction<
  PgQueryResultHKT,
  typeof schema,
  ExtractTablesWithRelations<typeof schema>
>;

/** The ingest API's database: PostgreSQL through postgres.js, or embedded PGlite. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** The raw Drizzle handle; prefer {@link Database.use} and {@link Database.transaction}. */
  readonly orm: Db;
  /**
   * Runs `fn` with a connection slot. Outages come out as `DatabaseUnavailableError`, a saturated
   * pool as `DatabaseOverloadedError` (both 503).
   */
  use<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction (all or nothing), retrying it from the start on a deadlock or
   * serialization failure. Errors as {@link Database.use}.
   */
  transaction<T>(fn: (tx: DbTransaction) => Promise<T>): Promise<T>;
  /** Raw SQL with `$1…` parameters; rows as plain objects. Errors as {@link Database.use}. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * {@link Database.query} for background work: runs only if a connection slot is free now, else resolves
   * `undefined` at once, never waiting in the queue requests wait in.
   */
  queryIfIdle<T = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<T[] | undefined>;
  /**
   * Resolves when the database answers and has every migration this build ships. Waits for a
   * connection slot like {@link Database.query}.
   * @throws {MigrationsMissingError} when the database has fewer migrations applied.
   */
  ping(): Promise<void>;
  /**
   * Reserves room for `bytes` about to be written, until the returned function is called: always granted
   * on PostgreSQL; on the embedded database when its disk keeps `EMBEDDED_MIN_FREE_BYTES` free after them
   * and every other reservation (every operation checks that floor itself).
   * @throws {DatabaseUnavailableError} when it cannot.
   */
  reserveRoom(bytes: number): Promise<() => void>;
  /**
   * Calls `onNotify` with the payload of every `NOTIFY` on `channel`, and `onListen` each time listening starts,
   * including after the listening connection was lost and re-established (notifications sent in
   * between are lost, so `onListen` should resynchronise). On PostgreSQL a dedicated connection
   * listens; embedded PGlite has one process, so only its own notifications arrive.
   * @returns a function that stops listening.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  /** Releases every connection (or closes the embedded database). Idempotent. */
  close(): Promise<void>;
}

const MIGRATION_LOCK_ID = 7_346_115_001;
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 4;

/**
 * Refuses a database not encoded in UTF8: an item holding a character its encoding cannot represent
 * would fail its whole batch with a 400, which clients take for the items' fault and dead-letter.
 * @throws {DatabaseStartError} saying how to create a UTF8 database.
 */
async function requireUtf8(client: postgres.Sql): Promise<void> {
  const [database] = await client<{ name: string; encoding: string }[]>`
    select current_database() as name, current_setting('server_encoding') as encoding`;
  if (database === undefined || database.encoding === 'UTF8') return;
  throw new DatabaseStartError(
    `database "${database.name}" is encoded in ${database.encoding}, not UTF8, so items holding characters ${database.encoding} cannot represent would be refused; nothing was written to it: ` +
      "create a UTF8 database (CREATE DATABASE sluice ENCODING 'UTF8' TEMPLATE template0, adding LOCALE 'C.UTF-8' when the server's locale is not UTF-8) and point DATABASE_URL at it",
  );
}

async function migrateOnPostgres(url: string): Promise<void> {
  // A dedicated single connection: the advisory lock is per session, and it serialises several
  // servers starting at once against the same database.
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    // Before any migration: a database the server refuses is left as it was.
    await requireUtf8(client);
    await client`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder: migrationsFolder() });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

function wrap(error: unknown): unknown {
  return asUnavailable(error) ?? error;
}

function gated(
  kind: Database['kind'],
  orm: Db,
  gate: Gate,
  raw: Database['query'],
  listen: Database['listen'],
  end: () => Promise<void>,
  room?: DiskRoom,
) {
  let closed: Promise<void> | undefined;
  const database: Database = {
    kind,
    orm,
    async use(fn) {
      try {
        await room?.require();
        return await gate.run(() => fn(orm));
      } catch (error) {
        throw wrap(error);
      }
    },
    async transaction(fn) {
      try {
        await room?.require();
      } catch (error) {
        throw wrap(error);
      }
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await gate.run(() => orm.transaction((tx) => fn(tx as DbTransaction)));
        } catch (error) {
          const state = sqlStateOf(error);
          if (attempt < TRANSACTION_ATTEMPTS && state !== undefined && RETRYABLE_SQLSTATES.has(state))
            continue;
          throw wrap(error);
        }
      }
    },
    async query(text, params = []) {
      try {
        await room?.require();
        return await gate.run(() => raw(text, params));
      } catch (error) {
        throw wrap(error);
      }
    },
    async queryIfIdle(text, params = []) {
      try {
        await room?.require();
        return await gate.tryRun(() => raw(text, params));
      } catch (error) {
        throw wrap(error);
      }
    },
    async ping() {
      let applied: number;
      try {
        await room?.require();
        // Through the gate like every other query: a saturated pool answers 503, not a hung probe.
        const rows = await gate.run(() =>
          raw<{ count: number }>('select count(*)::int as count from drizzle.__drizzle_migrations', []),
        );
        applied = rows[0]?.count ?? 0;
      } catch (error) {
        throw wrap(error);
      }
      const expected = shippedMigrationCount();
      if (applied < expected) {
        throw new MigrationsMissingError(`${applied} of ${expected} migrations applied`);
      }
    },
    async reserveRoom(bytes) {
      try {
        return room === undefined ? () => {} : await room.reserve(bytes);
      } catch (error) {
        throw wrap(error);
      }
    },
    listen,
    close() {
      closed ??= end();
      return closed;
    },
  };
  return database;
}

// PGlite runs inside this process, so its shared buffers are this process's memory: PostgreSQL's 128 MB
// default doubled the embedded server's resident size. The operating system's page cache still holds
// the data files; a small buffer pool costs reads from it, not from disk.
export const EMBEDDED_SETTINGS = ['shared_buffers = 16MB', 'temp_buffers = 2MB', 'work_mem = 2MB'];

/** Where {@link createDatabase} reports how it opened the embedded database (a pino logger fits). */
export interface DatabaseLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Options of {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /** Told whether a fresh embedded directory came from the build's template or from initdb, and why. */
  readonly log?: DatabaseLog;
  /**
   * Apply this build's migrations to PostgreSQL (the server, and commands that write). False for commands
   * that only read: they change nothing, and a database without every migration is refused instead.
   * @default true
   */
  readonly migrate?: boolean;
}

/**
 * Creates the database in `dir`, which holds none: from the template the build made (initialised and
 * migrated, copied in a fraction of initdb's time), or with initdb when the template is missing,
 * damaged or does not open.
 */
async function createEmbedded(dir: string, log: DatabaseLog | undefined): Promise<PGlite> {
  const options = { postgresqlconf: EMBEDDED_SETTINGS };
  const started = performance.now();
  const template = embeddedTemplatePath();
  if (template !== undefined) {
    try {
      await copyEmbeddedTemplate(template, dir);
      const copiedMs = Math.round(performance.now() - started);
      const pg = await PGlite.create(dir, options);
      log?.info(
        { directory: dir, template, copiedMs, openedMs: Math.round(performance.now() - started) },
        'embedded database created from the build template',
      );
      return pg;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log?.warn(
        { directory: dir, template, err: error },
        `the embedded database template could not be used (${reason}); creating the database with initdb, which takes a few seconds`,
      );
      // What the template wrote, not a database (the directory held none before it): initdb starts clean.
      await discardCreation(dir);
    }
  } else {
    log?.warn(
      { directory: dir },
      'no embedded database template beside the server (it is made by the build); creating the database with initdb, which takes a few seconds',
    );
  }
  const pg = await PGlite.create(dir, options);
  log?.info(
    { directory: dir, openedMs: Math.round(performance.now() - started) },
    'embedded database created with initdb',
  );
  return pg;
}

/**
 * Opens PGlite in `dir`. A directory with PG_VERSION holds a database and is never touched. One that
 * holds nothing but the server's own files gets a new database ({@link createEmbedded}), marked as
 * being created until it opens, so that a start interrupted meanwhile is started over by the next one.
 * @throws {DatabaseStartError} when `dir` holds anything else without PG_VERSION (a database that lost
 * it): it is left as it is.
 */
async function openEmbedded(dir: string, log: DatabaseLog | undefined): Promise<PGlite> {
  const state = await embeddedDirectoryState(dir);
  if (state === 'database') return PGlite.create(dir, { postgresqlconf: EMBEDDED_SETTINGS });
  if (state === 'interrupted') {
    log?.warn(
      { directory: dir },
      'an earlier start stopped while creating the embedded database, before anything was stored in it; creating it again',
    );
    await discardCreation(dir);
  }
  await startCreating(dir);
  const pg = await createEmbedded(dir, log);
  try {
    await finishCreating(dir);
  } catch (error) {
    await pg.close();
    throw error;
  }
  return pg;
}

/**
 * Opens the configured database and applies the committed migrations: PostgreSQL at
 * `config.url`, or PGlite in `config.embeddedDirectory` when it is unset. The PGlite directory
 * is locked for as long as the database is open (until `close()` or the process ends).
 * @throws {EmbeddedDatabaseLockedError} when another process (or open database) holds the PGlite directory.
 * @throws {DatabaseStartError} when the PostgreSQL database is not encoded in UTF8, or the PGlite
 * directory holds files but no database (neither is changed).
 */
export async function createDatabase(
  config: DbConfig,
  { log, migrate = true }: CreateDatabaseOptions = {},
): Promise<Database> {
  if (config.url !== undefined) {
    if (migrate) await migrateOnPostgres(config.url);
    const client = postgres(config.url, {
      max: config.poolSize,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 60,
    });
    const orm = drizzlePostgres(client, { schema }) as unknown as Db;
    const gate = new Gate({
      concurrency: config.poolSize,
      maxWaiting: config.maxWaiting,
      timeoutMs: config.acquireTimeoutMs,
    });
    return gated(
      'postgres',
      orm,
      gate,
      async <T>(text: string, params: readonly unknown[]) =>
        (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
      // postgres.js keeps one connection for all listeners and re-LISTENs (calling onListen again)
      // when it is lost.
      async (channel, onNotify, onListen) => {
        const { unlisten } = await client.listen(channel, (payload) => onNotify(payload), onListen);
        return async () => {
          await unlisten().catch(() => {});
        };
      },
      () => client.end({ timeout: 5 }),
    );
  }
  const dir = config.embeddedDirectory;
  await mkdir(dir, { recursive: true });
  // PGlite itself does not stop a second process from opening the same files, which corrupts them.
  const lock = await lockEmbeddedDatabase(dir);
  let pg: PGlite;
  try {
    pg = await openEmbedded(dir, log);
  } catch (error) {
    await lock.release();
    throw error;
  }
  try {
    const orm = drizzlePglite(pg, { schema });
    await migratePglite(orm, { migrationsFolder: migrationsFolder() });
    // PGlite runs one statement at a time; the gate only bounds how many requests queue for it.
    const gate = new Gate({
      concurrency: 1,
      maxWaiting: config.maxWaiting,
      timeoutMs: config.acquireTimeoutMs,
    });
    return gated(
      'pglite',
      orm as unknown as Db,
      gate,
      async <T>(text: string, params: readonly unknown[]) => (await pg.query<T>(text, [...params])).rows,
      async (channel, onNotify, onListen) => {
        const unlisten = await pg.listen(channel, (payload) => onNotify(payload));
        onListen?.();
        return async () => {
          await unlisten().catch(() => {});
        };
      },
      async () => {
        try {
          await pg.close();
        } finally {
          await lock.release();
        }
      },
      new DiskRoom(dir, config.embeddedMinFreeBytes),
    );
  } catch (error) {
    await pg.close();
    await lock.release();
    throw error;
  }
}
