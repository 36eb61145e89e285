import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Most tests wait on servers, timers and fsync rather than compute: run 2 files at a time even on a
    // 2-core machine (vitest's default there is 1, which left the suite mostly idle). Not more: the API's
    // and the SDK's suites run side by side, and the rotation and memory tests must not starve.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
