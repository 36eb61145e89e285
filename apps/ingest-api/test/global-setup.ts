import { realPostgresAvailable, testDatabaseUrl } from '../src/testing.js';

export default async function setup(): Promise<void> {
  if (!(await realPostgresAvailable())) {
    console.warn(
      `\n${'!'.repeat(100)}\n` +
        `!!! No PostgreSQL answered at ${testDatabaseUrl()} (TEST_DATABASE_URL).\n` +
        '!!! The suite runs on embedded PGlite; tests that need a real server (concurrency race, outage) are SKIPPED.\n' +
        `${'!'.repeat(100)}\n`,
    );
  }
}
