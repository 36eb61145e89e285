import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start a real ingest API on a fresh database (PGlite's initdb alone takes seconds).
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
