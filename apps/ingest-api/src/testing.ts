import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { buildApp } from './app.js';
import { type Config, loadConfig } from './config.js';

/** A fresh database for one test (file). */
export interface TestDatabase {
  readonly kind: 'postgres' | 'pglite';
  /** PostgreSQL URL of the fresh database; `undefined` for PGlite. */
  readonly url: string | undefined;
  /** A temp `DATA_DIR` (PGlite files and local objects live here). */
  readonly dataDir: string;
  /** Drops the database and removes the temp dir. */
  drop(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, on a fresh test database. */
export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
  /** The key of {@link TestServer.source}: `test-key`. */
  readonly apiKey: string;
  /** `test`; a second source `other` has the key `other-key`. */
  readonly source: string;
  readonly config: Config;
  /** Raw SQL through the app's own connection (PGlite allows one owner). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Closes the app, then drops the database. */
  close(): Promise<void>;
}

/** The PostgreSQL server tests use: `TEST_DATABASE_URL`. @default 'postgres://postgres@127.0.0.1:5432/test' */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** True when the environment says it is CI: `CI=true` (or `1`), as CI services set it. */
export function isCiEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value === 'true' || value === '1';
}

/** What {@link chooseTestDatabase} decides from. */
export interface TestDatabaseFacts {
  /** Running in CI ({@link isCiEnvironment}). */
  readonly ci: boolean;
  /** Whether the server of `TEST_DATABASE_URL` answered. */
  readonly reachable: boolean;
  /** `TEST_DATABASE_URL`, for the error message. */
  readonly url?: string;
  /** Why it did not answer, for the error message. */
  readonly reason?: string;
}

/**
 * The one rule for which database the database-backed tests run on: real PostgreSQL when it answers;
 * otherwise PGlite on a developer's machine, but never in CI, where a silent fallback would skip the
 * concurrency and outage tests and still report green.
 * @throws {Error} in CI when PostgreSQL does not answer.
 */
export function chooseTestDatabase(facts: TestDatabaseFacts): 'postgres' | 'pglite' {
  if (facts.reachable) return 'postgres';
  if (facts.ci) {
    throw new Error(
      `CI=true but PostgreSQL at ${facts.url ?? testDatabaseUrl()} did not answer (${facts.reason ?? 'no answer'}): ` +
        'in CI the database-backed tests must run on real PostgreSQL, so they fail instead of falling back to PGlite. ' +
        'Start a PostgreSQL server or set TEST_DATABASE_URL.',
    );
  }
  return 'pglite';
}

let availability: Promise<boolean> | undefined;
let unavailableReason = '';
let warned = false;

/**
 * Whether the tests run on the PostgreSQL server of `TEST_DATABASE_URL` (it answered within ~2 s;
 * checked once per process), by {@link chooseTestDatabase}.
 * @throws {Error} in CI when it does not answer, so every database-backed test file fails.
 */
export const realPostgresAvailable = async (): Promise<boolean> => {
  availability ??= (async () => {
    const sql = postgres(testDatabaseUrl(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } catch (error) {
      unavailableReason = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      await sql.end({ timeout: 1 });
    }
  })();
  const reachable = await availability;
  const choice = chooseTestDatabase({
    ci: isCiEnvironment(),
    reachable,
    url: testDatabaseUrl(),
    reason: unavailableReason,
  });
  return choice === 'postgres';
};

/**
 * A fresh database per call: `CREATE DATABASE sluice_test_<random>` on the server of
 * `TEST_DATABASE_URL`; when that server does not answer, a PGlite directory in a temp dir, with
 * one loud warning that real-PostgreSQL-only tests will be skipped — except in CI, where it throws
 * ({@link chooseTestDatabase}).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const onPostgres = await realPostgresAvailable();
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-test-'));
  if (!onPostgres) {
    if (!warned) {
      warned = true;
      console.warn(
        `\n!!! PostgreSQL at ${testDatabaseUrl()} did not answer within 2 s (${unavailableReason}): tests run on embedded PGlite, ` +
          'and tests that need real PostgreSQL (concurrency, outages) are SKIPPED. Set TEST_DATABASE_URL to run them. !!!\n',
      );
    }
    return {
      kind: 'pglite',
      url: undefined,
      dataDir,
      drop: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    dataDir,
    async drop() {
      const dropper = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** The admin key of {@link testConfig}. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * Overrides of {@link testConfig}: a group (`db`, `http`, `limits`, …) given in part keeps the rest of
 * its settings; `s3` and top-level values replace what is there.
 */
export type ConfigOverrides = {
  readonly [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K];
};

function isGroup(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The configuration tests run on: `db` (its `DATA_DIR`), port 0 of 127.0.0.1, source `test` / key
 * `test-key` and source `other` / key `other-key`, admin key {@link TEST_ADMIN_KEY}, role `api`, log level `warn`, then `overrides`.
 */
export function testConfig(db: TestDatabase, overrides: ConfigOverrides = {}): Config {
  const base = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: 'test:test-key,other:other-key',
    ADMIN_KEY: TEST_ADMIN_KEY,
    DATA_DIR: db.dataDir,
  });
  const config: Record<string, unknown> = {
    ...base,
    db: { ...base.db, url: db.url },
    role: 'api',
    logLevel: 'warn',
  };
  for (const [key, value] of Object.entries(overrides)) {
    const current = config[key];
    config[key] = key !== 's3' && isGroup(value) && isGroup(current) ? { ...current, ...value } : value;
  }
  return config as unknown as Config;
}

/** Starts {@link buildApp} on a fresh {@link createTestDatabase} with {@link testConfig}. */
export async function startTestServer(overrides: ConfigOverrides = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const config = testConfig(db, overrides);
  let app: FastifyInstance;
  try {
    app = await buildApp(config);
  } catch (error) {
    await db.drop();
    throw error;
  }
  const address = await app.listen({ port: config.http.port, host: config.http.host });
  let closed: Promise<void> | undefined;
  return {
    url: address,
    app,
    db,
    apiKey: 'test-key',
    source: 'test',
    config,
    query: (sql, params) => app.db.query(sql, params),
    close() {
      closed ??= (async () => {
        try {
          await app.close();
        } finally {
          await db.drop();
        }
      })();
      return closed;
    },
  };
}
